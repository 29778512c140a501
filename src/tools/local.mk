# command-line tools
