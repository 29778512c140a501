# tools module
