# remoting module
