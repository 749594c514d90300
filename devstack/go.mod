module github.com/ably-fanout/devstack

go 1.26
