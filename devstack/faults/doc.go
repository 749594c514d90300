// Package faults contains the fault tests of the whole pipeline. Each test
// starts Redis, the Ably emulator, publisher replicas and, where it needs
// one, the trading server as separate processes, and produces a known set
// of trade ids. It injects one fault: a replica killed with SIGKILL or
// stopped with SIGTERM, Redis restarted or out of memory, Ably errors, or
// bad input. Then it counts what the emulator and a realtime subscriber
// received: every id once, no second over the rate limit, and every
// dead-lettered entry accounted for.
//
// Run them with:
//
//	cd devstack && go test -count=1 -v ./faults/
//
// Each test logs a line starting with "figures:" that RELIABILITY.md
// quotes.
package faults
