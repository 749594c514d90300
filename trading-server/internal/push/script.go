package push

import (
	"context"
	_ "embed"
	"fmt"

	"github.com/redis/go-redis/v9"
)

//go:embed push_bounded.lua
var pushBoundedSource string

var pushBoundedScript = redis.NewScript(pushBoundedSource)

// pushBounded runs push_bounded.lua once and returns how many of the
// trades, from the first, were appended to queue. Script.Run tries EVALSHA
// first and falls back to EVAL on NOSCRIPT, which Redis returns after a
// restart has emptied its script cache.
func pushBounded(ctx context.Context, client redis.Scripter, queue string, maxLength int64, trades []string) (int, error) {
	args := make([]any, 0, len(trades)+1)
	args = append(args, maxLength)
	for _, t := range trades {
		args = append(args, t)
	}
	n, err := pushBoundedScript.Run(ctx, client, []string{queue}, args...).Int64()
	if err != nil {
		return 0, fmt.Errorf("run push_bounded.lua: %w", err)
	}
	if n < 0 || n > int64(len(trades)) {
		return 0, fmt.Errorf("run push_bounded.lua: appended %d of %d trades, out of range", n, len(trades))
	}
	return int(n), nil
}
