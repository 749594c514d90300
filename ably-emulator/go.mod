module github.com/ably-fanout/ably-emulator

go 1.26

require (
	github.com/ably/ably-go v1.4.1
	github.com/coder/websocket v1.8.15
	github.com/vmihailenco/msgpack/v5 v5.4.1
)

require (
	github.com/ably/vcdiff-go v0.0.2 // indirect
	github.com/ugorji/go/codec v1.1.9 // indirect
	github.com/vmihailenco/tagparser/v2 v2.0.0 // indirect
	golang.org/x/sys v0.2.0 // indirect
)
