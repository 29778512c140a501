# filter module
