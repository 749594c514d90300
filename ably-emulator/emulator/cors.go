package emulator

import "net/http"

// withCORS lets browsers call the emulator from any origin, as Ably does.
// ably-js sends credentialed requests (fetch with credentials "include"
// when it sets an Authorization header), so the response names the origin
// and allows credentials instead of using "*". The handler responds to
// preflight requests itself and allows every requested header, which
// covers the headers ably-js sends (Authorization, Content-Type, Accept,
// X-Ably-Version, Ably-Agent, X-Ably-ClientId).
func withCORS(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		header := w.Header()
		origin := r.Header.Get("Origin")
		if origin != "" {
			header.Set("Access-Control-Allow-Origin", origin)
			header.Set("Access-Control-Allow-Credentials", "true")
			header.Set("Access-Control-Expose-Headers", "X-Ably-Errorcode, X-Ably-Errormessage, Link")
			header.Add("Vary", "Origin")
		}
		if r.Method != http.MethodOptions || r.Header.Get("Access-Control-Request-Method") == "" {
			next.ServeHTTP(w, r)
			return
		}
		header.Set("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS")
		if requested := r.Header.Get("Access-Control-Request-Headers"); requested != "" {
			header.Set("Access-Control-Allow-Headers", requested)
		} else {
			header.Set("Access-Control-Allow-Headers",
				"Authorization, Content-Type, Accept, X-Ably-Version, Ably-Agent, X-Ably-ClientId")
		}
		header.Add("Vary", "Access-Control-Request-Headers")
		header.Set("Access-Control-Max-Age", "86400")
		w.WriteHeader(http.StatusNoContent)
	})
}
