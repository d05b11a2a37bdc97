package app

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// sessionKey signs productpage's session cookies; the mesh makes one
// random key at start and hands it to productpage in Env.SessionKey.
type sessionKey []byte

// signSession makes a Flask-style session cookie value: the JSON session,
// a timestamp and an HMAC, each base64url without padding and joined by dots
// (itsdangerous' format). Clients only need to send it back; routing sees the
// user through the end-user header productpage derives from it.
func (k sessionKey) signSession(user string) string {
	payload, _ := json.Marshal(map[string]string{"user": user})
	var ts [4]byte
	binary.BigEndian.PutUint32(ts[:], uint32(time.Now().Unix()))
	enc := base64.RawURLEncoding
	msg := enc.EncodeToString(payload) + "." + enc.EncodeToString(ts[:])
	mac := hmac.New(sha1.New, k)
	mac.Write([]byte(msg))
	return msg + "." + enc.EncodeToString(mac.Sum(nil))
}

// sessionUser returns the signed-in user, or "" for a missing, forged or
// malformed session cookie (Flask then treats the visitor as signed out).
func (k sessionKey) sessionUser(r *http.Request) string {
	c, err := r.Cookie("session")
	if err != nil || c.Value == "" {
		return ""
	}
	i := strings.LastIndexByte(c.Value, '.')
	if i < 0 {
		return ""
	}
	msg, sig := c.Value[:i], c.Value[i+1:]
	enc := base64.RawURLEncoding
	got, err := enc.DecodeString(sig)
	if err != nil {
		return ""
	}
	mac := hmac.New(sha1.New, k)
	mac.Write([]byte(msg))
	if !hmac.Equal(got, mac.Sum(nil)) {
		return ""
	}
	payload, _, _ := strings.Cut(msg, ".")
	raw, err := enc.DecodeString(payload)
	if err != nil {
		return ""
	}
	var s struct {
		User string `json:"user"`
	}
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s.User
}
