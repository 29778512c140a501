# ha module
