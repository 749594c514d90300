module github.com/ably-fanout/trading-server

go 1.26
