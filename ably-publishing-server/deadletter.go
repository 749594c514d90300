package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"text/tabwriter"

	"github.com/ably-fanout/ably-publishing-server/internal/deadletter"
	"github.com/ably-fanout/lib/envconfig"
	"github.com/ably-fanout/lib/redisconn"
	"github.com/redis/go-redis/v9"
)

// deadLetterCommand is the first argument that selects the subcommand.
const deadLetterCommand = "deadletter"

const deadLetterSummary = `inspects the dead-letter list and puts entries back on the queue

Usage: ably-publishing-server deadletter [settings] ACTION [ARGUMENT...]

Actions:
  count              print the number of entries
  list               print one line per entry: index, trade id, Ably code, time, replica, reason
  show REF...        print the entries that REF names as JSON, payload included
  requeue all        move every entry back to the tail of the queue
  requeue REF...     move the entries that REF names back to the tail of the queue

REF is a 0-based index as list prints it, or a trade id (write id:123 for a
trade id made of digits only). Each entry moves in one Lua script, so an
interrupted requeue never loses or duplicates an entry.`

// runDeadLetterProcess runs the subcommand with the process's arguments,
// environment and .env file, and returns the exit status.
func runDeadLetterProcess() int {
	if err := envconfig.LoadDotEnv(".env"); err != nil {
		fmt.Fprintf(os.Stderr, "%s %s: %v\n", programName, deadLetterCommand, err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runDeadLetter(ctx, os.Args[2:], os.LookupEnv, os.Stdout, os.Stderr)
}

// runDeadLetter runs the deadletter subcommand and returns the exit status:
// 0 on success, 1 when Redis failed or a reference matched nothing, 2 for
// invalid arguments or settings.
func runDeadLetter(ctx context.Context, args []string, lookupEnv func(string) (string, bool), stdout, stderr io.Writer) int {
	name := programName + " " + deadLetterCommand
	var cfg redisconn.Config
	set := envconfig.New(name, deadLetterSummary)
	redisconn.Register(set, &cfg)
	rest, err := set.ParseWithArgs(args, lookupEnv, stdout)
	if errors.Is(err, envconfig.ErrHelp) {
		return 0
	}
	if err == nil {
		err = cfg.Validate()
	}
	if err == nil && len(rest) == 0 {
		err = fmt.Errorf("missing action: expected count, list, show or requeue (run %s -h)", name)
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 2
	}
	opts, err := cfg.Options()
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 2
	}
	client := redis.NewClient(opts)
	defer client.Close()
	store := deadletter.New(client, cfg.QueueKey)

	action, refs := rest[0], rest[1:]
	switch {
	case action == "count" && len(refs) == 0:
		err = countDeadLetters(ctx, store, stdout)
	case action == "list" && len(refs) == 0:
		err = listDeadLetters(ctx, store, stdout)
	case action == "show" && len(refs) > 0:
		err = showDeadLetters(ctx, store, refs, stdout)
	case action == "requeue" && len(refs) == 1 && refs[0] == "all":
		err = requeueAllDeadLetters(ctx, store, stdout)
	case action == "requeue" && len(refs) > 0:
		err = requeueDeadLetters(ctx, store, refs, stdout)
	default:
		fmt.Fprintf(stderr, "%s: invalid arguments %q: expected count, list, show REF..., requeue all or requeue REF... (run %s -h)\n",
			name, rest, name)
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	return 0
}

func countDeadLetters(ctx context.Context, store *deadletter.Store, out io.Writer) error {
	n, err := store.Count(ctx)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(out, n)
	return err
}

func listDeadLetters(ctx context.Context, store *deadletter.Store, out io.Writer) error {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "INDEX\tTRADE_ID\tCODE\tAT\tREPLICA\tBYTES\tREASON")
	err := store.Each(ctx, func(e deadletter.Entry) error {
		reason := e.Reason
		if e.DecodeError != "" {
			reason = "entry is not valid JSON: " + e.DecodeError
		}
		_, err := fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\t%d\t%s\n",
			e.Index, orDash(e.TradeID), e.Code, orDash(e.At), orDash(e.Replica), payloadBytes(e), reason)
		return err
	})
	if flushErr := tw.Flush(); err == nil {
		err = flushErr
	}
	return err
}

func showDeadLetters(ctx context.Context, store *deadletter.Store, refs []string, out io.Writer) error {
	entries, err := findDeadLetters(ctx, store, refs)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	for _, e := range entries {
		if err := enc.Encode(e); err != nil {
			return err
		}
	}
	return nil
}

func requeueAllDeadLetters(ctx context.Context, store *deadletter.Store, out io.Writer) error {
	moved, err := store.RequeueAll(ctx)
	fmt.Fprintf(out, "requeued %d entries from %s\n", moved, store.DeadKey())
	return err
}

func requeueDeadLetters(ctx context.Context, store *deadletter.Store, refs []string, out io.Writer) error {
	// Every reference is resolved before the first move, because a move
	// shifts the indexes of the entries after it.
	entries, err := findDeadLetters(ctx, store, refs)
	if err != nil {
		return err
	}
	moved := 0
	for _, e := range entries {
		ok, err := store.Requeue(ctx, e)
		if err != nil {
			fmt.Fprintf(out, "requeued %d of %d entries\n", moved, len(entries))
			return err
		}
		if !ok {
			fmt.Fprintf(out, "index %d (trade %s) was no longer in the list; someone else moved it\n", e.Index, orDash(e.TradeID))
			continue
		}
		moved++
		fmt.Fprintf(out, "requeued index %d (trade %s)\n", e.Index, orDash(e.TradeID))
	}
	fmt.Fprintf(out, "requeued %d of %d entries\n", moved, len(entries))
	return nil
}

// findDeadLetters resolves every reference and returns the entries once
// each, in list order.
func findDeadLetters(ctx context.Context, store *deadletter.Store, refs []string) ([]deadletter.Entry, error) {
	byIndex := map[int64]deadletter.Entry{}
	for _, ref := range refs {
		found, err := store.Find(ctx, ref)
		if err != nil {
			return nil, err
		}
		for _, e := range found {
			byIndex[e.Index] = e
		}
	}
	entries := make([]deadletter.Entry, 0, len(byIndex))
	for _, e := range byIndex {
		entries = append(entries, e)
	}
	slices.SortFunc(entries, func(a, b deadletter.Entry) int { return int(a.Index - b.Index) })
	return entries, nil
}

func payloadBytes(e deadletter.Entry) int {
	payload, err := e.RawPayload()
	if err != nil {
		return len(e.Payload)
	}
	return len(payload)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
