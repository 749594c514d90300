package stack

import "encoding/json"

// TradeIDOf returns the trade id in the data of a message that an ably-go
// subscriber received, or "" when the data is not a trade. ably-go hands
// over JSON data as a decoded map or, depending on the protocol and the
// encoding the message arrived with, as the JSON text in a string or bytes.
func TradeIDOf(data any) string {
	switch v := data.(type) {
	case map[string]any:
		id, _ := v["id"].(string)
		return id
	case map[any]any:
		id, _ := v["id"].(string)
		return id
	case string:
		return idInJSON([]byte(v))
	case []byte:
		return idInJSON(v)
	}
	return ""
}

func idInJSON(data []byte) string {
	var t struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(data, &t); err != nil {
		return ""
	}
	return t.ID
}
