module github.com/rocketmq-c/compat-go

go 1.18

require github.com/apache/rocketmq-client-go/v2 v2.1.2
