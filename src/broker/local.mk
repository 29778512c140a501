# broker module
