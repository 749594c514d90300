// Package browser drives Debian's Chromium, headless, with chromedp for tests
// of client/client.html and for the end-to-end tests of the whole stack.
//
// Start launches one browser for a test and closes it when the test ends.
// NewPage opens a tab with a viewport. Page methods navigate, wait for
// selectors and text, read values, serve fixed responses for matching
// requests, and save screenshots. Each method fails the test with a message
// that names what it waited for and what the page showed instead.
//
// The browser resolves no host except localhost, 127.0.0.1 and [::1] (see
// Start), so a page under test reaches only loopback addresses.
package browser
