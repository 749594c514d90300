module github.com/ably-fanout/ably-emulator

go 1.26
