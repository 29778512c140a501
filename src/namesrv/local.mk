# namesrv module
