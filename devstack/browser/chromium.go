package browser

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/chromedp/chromedp"
)

// ChromiumPath is the browser binary that Debian's chromium package installs.
const ChromiumPath = "/usr/bin/chromium"

// InstallCommand installs Chromium on Debian. Start names it when the browser
// is missing.
const InstallCommand = "apt-get update && apt-get install -y chromium"

// hostResolverRules makes every host fail to resolve except localhost,
// 127.0.0.1 and [::1], so that a page under test cannot reach the network
// outside loopback, for example Ably's CDN or Ably's realtime hosts.
// Chromium 156 applies the rule to IP literals too: without the EXCLUDE
// entries a server on 127.0.0.1 fails with ERR_NAME_NOT_RESOLVED.
const hostResolverRules = "MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1, EXCLUDE [::1]"

// checkExecutable returns an error naming InstallCommand unless path is an
// executable file.
func checkExecutable(path string) error {
	info, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("chromium not found at %s (%w); install it with: %s", path, err, InstallCommand)
	}
	if info.IsDir() || info.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("chromium at %s is not an executable file; install it with: %s", path, InstallCommand)
	}
	return nil
}

// Browser is a headless Chromium process that a test started.
type Browser struct {
	ctx context.Context // chromedp context whose first Run started the browser
}

// Start launches headless Chromium from ChromiumPath with a fresh temporary
// profile and returns it. The browser stops when the test ends. A missing
// browser fails the test with a message that names InstallCommand.
func Start(tb testing.TB) *Browser {
	tb.Helper()
	if err := checkExecutable(ChromiumPath); err != nil {
		tb.Fatal(err)
	}

	// TempDir is registered before the browser's cleanup, so the cleanups,
	// which run last-in first-out, stop the browser before removing its
	// profile.
	profileDir := tb.TempDir()

	options := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(ChromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(profileDir),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("host-resolver-rules", hostResolverRules),
	}
	allocatorCtx, cancelAllocator := chromedp.NewExecAllocator(context.Background(), options...)
	browserCtx, cancelBrowser := chromedp.NewContext(allocatorCtx)
	tb.Cleanup(func() {
		// Close the browser first, then release the allocator, which waits
		// for the process to exit.
		cancelBrowser()
		cancelAllocator()
	})

	// The first Run starts the browser. It has no timeout because a timeout
	// on this context would stop the browser when it ends.
	if err := chromedp.Do(browserCtx); err != nil {
		tb.Fatalf("start chromium %s: %v", ChromiumPath, err)
	}
	return &Browser{ctx: browserCtx}
}
