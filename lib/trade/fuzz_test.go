package trade

import "testing"

func FuzzParse(f *testing.F) {
	for _, payload := range unusualPayloads {
		f.Add([]byte(payload))
	}
	for _, tc := range rejectCases {
		f.Add([]byte(tc.input))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		compareWithReference(t, data)
	})
}

func FuzzValidate(f *testing.F) {
	v := validTrade()
	f.Add(v.ID, v.Symbol, v.Price, v.Size, v.Side, v.Seq, v.Time)
	f.Add("Az09_.-", "BRK.B", "0.00000001", int64(1), "sell", int64(1), "2024-02-29T23:59:59.999Z")
	f.Add("p1:1", "aapl", "01.5", int64(0), "BUY", int64(0), "2025-03-14T9:30:00,123Z")
	f.Add("p1-1", "AAPL", "1.", int64(-5), "buy", int64(1), "2025-03-14T09:30:00.+12Z")
	f.Add("p1-1", "AAPL", "1e3", int64(1), "buy", int64(1), "2025-02-30T09:30:00.123Z")
	f.Fuzz(func(t *testing.T, id, symbol, price string, size int64, side string, seq int64, ts string) {
		tr := Trade{ID: id, Symbol: symbol, Price: price, Size: size, Side: side, Seq: seq, Time: ts}
		got, want := tr.Validate(), referenceValidate(tr)
		if (got == nil) != (want == nil) {
			t.Fatalf("Validate(%+v) = %v, reference = %v", tr, got, want)
		}
		if sentinelOf(got) != sentinelOf(want) {
			t.Errorf("Validate(%+v) = %v, reference = %v", tr, got, want)
		}
		if got != nil && got.Error() != want.Error() {
			t.Errorf("Validate(%+v) = %q, reference = %q", tr, got, want)
		}
	})
}
