package browser

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// Viewport is the size of a tab's layout viewport in CSS pixels.
type Viewport struct {
	Width, Height int64
	// Scale is the device pixel ratio. Zero means 1.
	Scale float64
	// Mobile turns on mobile emulation: the meta viewport tag applies and
	// the page gets touch events.
	Mobile bool
}

// Viewports for screenshots: a laptop screen and a phone the size of an
// iPhone 12 to 15 in portrait.
var (
	Desktop = Viewport{Width: 1280, Height: 800, Scale: 1}
	Phone   = Viewport{Width: 390, Height: 844, Scale: 2, Mobile: true}
)

// SetViewport changes the tab's viewport. The page lays itself out again
// and keeps its state.
func (p *Page) SetViewport(tb testing.TB, v Viewport) {
	tb.Helper()
	scale := v.Scale
	if scale == 0 {
		scale = 1
	}
	options := []chromedp.EmulateViewportOption{chromedp.EmulateScale(scale)}
	if v.Mobile {
		options = append(options, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait)
	}
	if err := p.do(chromedp.EmulateViewport(v.Width, v.Height, options...)); err != nil {
		tb.Fatalf("set viewport %dx%d: %v", v.Width, v.Height, err)
	}
}

// Screenshot saves a PNG of the whole page, beyond the viewport too, as
// dir/name.png and returns the file's path.
func (p *Page) Screenshot(tb testing.TB, dir, name string) string {
	tb.Helper()
	// Quality 100 selects PNG.
	return p.saveScreenshot(tb, chromedp.FullScreenshot(100), dir, name)
}

// ViewportScreenshot saves a PNG of what the viewport shows, as
// dir/name.png, and returns the file's path.
func (p *Page) ViewportScreenshot(tb testing.TB, dir, name string) string {
	tb.Helper()
	return p.saveScreenshot(tb, chromedp.CaptureScreenshot(), dir, name)
}

func (p *Page) saveScreenshot(tb testing.TB, capture chromedp.Action[[]byte], dir, name string) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, p.Timeout)
	defer cancel()
	image, err := chromedp.Run(ctx, capture)
	if err != nil {
		tb.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, image, 0o644); err != nil {
		tb.Fatalf("save screenshot: %v", err)
	}
	return path
}

// ScreenshotDir creates repoRoot/artifacts/screenshots, which git ignores,
// and returns its path.
func ScreenshotDir(tb testing.TB, repoRoot string) string {
	tb.Helper()
	dir := filepath.Join(repoRoot, "artifacts", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatalf("create screenshot folder: %v", err)
	}
	return dir
}

// SetColorScheme makes the page see prefers-color-scheme as scheme, "light"
// or "dark".
func (p *Page) SetColorScheme(tb testing.TB, scheme string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, p.Timeout)
	defer cancel()
	_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
	})
	if err != nil {
		tb.Fatalf("set color scheme %s: %v", scheme, err)
	}
}
