package scenarios

import "testing"

func TestChecks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		check func(string) string
		in    string
		ok    bool
	}{
		{"expect one version", checkExpect, "v1=100", true},
		{"expect thirds", checkExpect, "v1=33.3,v2=33.3,v3=33.4", true},
		{"expect spaces", checkExpect, " v1 = 90 , v3 = 10 ", true},
		{"expect zero share", checkExpect, "v1=0,v3=100", true},
		{"expect empty", checkExpect, "", false},
		{"expect trailing comma", checkExpect, "v1=100,", false},
		{"expect over 100", checkExpect, "v1=150,v3=-50", false},
		{"expect NaN", checkExpect, "v1=NaN", false},
		{"expect no version", checkExpect, "=100", false},
		{"rate number", checkRate, "20", true},
		{"rate per second", checkRate, "20/s", true},
		{"rate per minute", checkRate, "600/1m", true},
		{"rate zero", checkRate, "0", true},
		{"rate negative", checkRate, "-1/s", false},
		{"rate zero period", checkRate, "5/0s", false},
		{"rate infinite", checkRate, "Inf", false},
		{"rate no number", checkRate, "/s", false},
		{"mirror version", checkMirror, "v2", true},
		{"mirror percent", checkMirror, "v2=50", true},
		{"mirror zero", checkMirror, "v2=0", false},
		{"mirror no version", checkMirror, "=50", false},
		{"mirror spaces", checkMirror, "v2 = 50", false},
		{"url", checkURL, "https://host:9090/x", true},
		{"url without scheme", checkURL, "host:9090", false},
		{"url other scheme", checkURL, "ftp://host", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tc.check(tc.in); (got == "") != tc.ok {
				t.Errorf("check(%q) = %q; want ok %v", tc.in, got, tc.ok)
			}
		})
	}
}

func TestUnknownKey(t *testing.T) {
	t.Parallel()
	fields := map[string]field{"expect": nil, "expect-from": nil, "settle-min": nil}
	tests := []struct{ name, key, want string }{
		{"underscore", "expect_from", `unknown key "expect_from", expected "expect-from"`},
		{"camel case", "settleMin", `unknown key "settleMin", expected "settle-min"`},
		{"typo", "expcet", `unknown key "expcet", expected "expect"`},
		{"far", "rollback", `unknown key "rollback", expected one of expect, expect-from, settle-min`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := unknownKey(tc.key, fields); got != tc.want {
				t.Errorf("unknownKey(%q) = %q; want %q", tc.key, got, tc.want)
			}
		})
	}
}
