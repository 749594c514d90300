package lease

import (
	_ "embed"

	"github.com/redis/go-redis/v9"
)

var (
	//go:embed renew.lua
	renewSource string
	//go:embed expired.lua
	expiredSource string
	//go:embed claim.lua
	claimSource string
	//go:embed release.lua
	releaseSource string
)

// go-redis runs each script with EVALSHA and falls back to EVAL when Redis
// replies NOSCRIPT, as it does after a restart, so the scripts are loaded
// again by themselves.
var (
	renewScript   = redis.NewScript(renewSource)
	expiredScript = redis.NewScript(expiredSource)
	claimScript   = redis.NewScript(claimSource)
	releaseScript = redis.NewScript(releaseSource)
)

// Results of renew.lua.
const (
	renewExtended = 0
	renewAdded    = 1
	renewRevived  = 2
)

// Results of claim.lua when nothing was moved.
const (
	claimOwnLeaseNotLive = -1
	claimLeaseLive       = -2
	claimNothing         = -3
)

// maxExpiredPerCheck bounds the replicas one check takes over.
const maxExpiredPerCheck = 16
