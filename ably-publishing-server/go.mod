module github.com/ably-fanout/ably-publishing-server

go 1.26
