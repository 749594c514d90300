module github.com/ably-fanout/lib

go 1.26
