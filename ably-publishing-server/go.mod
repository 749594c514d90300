module github.com/ably-fanout/ably-publishing-server

go 1.26.0

require (
	github.com/ably-fanout/ably-emulator v0.0.0-00010101000000-000000000000
	github.com/ably-fanout/lib v0.0.0-00010101000000-000000000000
	github.com/ably/ably-go v1.4.1
	github.com/redis/go-redis/v9 v9.23.0
)

require (
	github.com/ably/vcdiff-go v0.0.2 // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/coder/websocket v1.8.15 // indirect
	github.com/joho/godotenv v1.5.1 // indirect
	github.com/ugorji/go/codec v1.1.9 // indirect
	github.com/vmihailenco/msgpack/v5 v5.4.1 // indirect
	github.com/vmihailenco/tagparser/v2 v2.0.0 // indirect
	go.uber.org/atomic v1.12.0 // indirect
	golang.org/x/sys v0.48.0 // indirect
)

replace github.com/ably-fanout/lib => ../lib

replace github.com/ably-fanout/ably-emulator => ../ably-emulator
