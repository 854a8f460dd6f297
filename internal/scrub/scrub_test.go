package scrub

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestURLHidesUserInformationAndQueryValues(t *testing.T) {
	tests := []struct{ in, want string }{
		{"tcp://user:pass@host:24224?shared_key=s3cret", "tcp://***@host:24224?shared_key=***"},
		{"http://h/?token=abc", "http://h/?token=***"},
		{"https://elastic:p@ss@es:9243/prefix?pipeline=x&_msg_field=message", "https://***@es:9243/prefix?pipeline=***&_msg_field=***"},
		{"http://h/p?a=1;b=2#access_token=t", "http://h/p?a=***;b=***#access_token=***"},
		{"http://h/?s3cret&x=", "http://h/?***&x=***"},
		{"http://127.0.0.1:9200", "http://127.0.0.1:9200"},
		{"http://h/path/only", "http://h/path/only"},
		{"unix:///run/fluent.sock", "unix:///run/fluent.sock"},
		{"not a url", "not a url"},
		{"user:pass@host:24224", "***@host:24224"},
		// Attacker review, item D: user information without "://".
		{"//admin:S3cretPw@es:9200", "//***@es:9200"},
		{"http:/u:pw@h", "http:/***@h"},
		{"http:///admin:S3cretPw@es", "http:///***@es"},
		{"http://u:pa/ss@h/x", "http://***@h/x"},
		{"/x?X-Amz-Signature=S1gValue", "/x?X-Amz-Signature=***"},
		{"//admin:S3cretPw@other/x?sig=S1gValue", "//***@other/x?sig=***"},
	}
	for _, tc := range tests {
		if got := URL(tc.in); got != tc.want {
			t.Errorf("URL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestLineRemovesCredentials(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"url in an error", `forward: invalid URL "tcp://user:pass@host:24224?shared_key=s3cret": bad port`,
			`forward: invalid URL "tcp://***@host:24224?shared_key=***": bad port`},
		{"query token in a failure line", "bulk request to http://h/?token=abc: HTTP 503: busy",
			"bulk request to http://h/?token=***: HTTP 503: busy"},
		{"several urls", "from http://a/?k=1 to https://u@b/x?k=2 done", "from http://a/?k=*** to https://***@b/x?k=*** done"},
		{"bearer", "Authorization: Bearer abc.def-ghi", "Authorization: Bearer ***"},
		{"basic", "basic dXNlcjpwdw== refused", "basic *** refused"},
		{"api key", "ApiKey VnVhQ2ZHY0JDZGJr== sent", "ApiKey *** sent"},
		{"jwt", "token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig-nat_ure rest", "token *** rest"},
		{"unsigned jwt", "x eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0. y", "x *** y"},
		{"not a jwt", "eyJust.one dot, and xeyJ.a.b inside a word", "eyJust.one dot, and xeyJ.a.b inside a word"},
		{"our own messages stay readable", "bearer_token: contains a control character; check http_user/http_passwd, api_key or bearer_token",
			"bearer_token: contains a control character; check http_user/http_passwd, api_key or bearer_token"},
		{"a scheme word without a token", "Basic: and Bearer", "Basic: and Bearer"},
		{"stack traces keep their lines", "panic: x\ngoroutine 1\n", "panic: x\ngoroutine 1\n"},
		// Attacker review, item D: URL-ish text without "://", relative URLs, sessions.
		{"protocol-relative url", `url "//admin:S3cretPw@es:9200": the scheme must be http or https`,
			`url "//***@es:9200": the scheme must be http or https`},
		{"one slash after the scheme", `url "http:/u:pw@h" has no host`, `url "http:/***@h" has no host`},
		{"a bare user and password", "refused by admin:S3cretPw@es:9200 twice", "refused by ***@es:9200 twice"},
		{"an @ in the password", "to //admin:p@ss@es/x", "to //***@es/x"},
		{"a redirect elsewhere", `redirect to "//admin:S3cretPw@other/x?sig=S1gValue", not followed`,
			`redirect to "//***@other/x?sig=***", not followed`},
		{"a relative redirect", "Location: /x?X-Amz-Signature=S1gValue&b=2", "Location: /x?X-Amz-Signature=***&b=***"},
		{"a session", "session 9d1c2b3a-4e5f-4a6b-8c7d-0e1f2a3b4c5d joined", "session *** joined"},
		{"a session ID", `sessionID: 9D1C2B3A-4E5F-4A6B-8C7D-0E1F2A3B4C5D, "session ID" "9d1c2b3a-4e5f-4a6b-8c7d-0e1f2a3b4c5d"`,
			`sessionID: ***, "session ID" "***"`},
		{"an e-mail address is not a password", "contact jdoe@example.com", "contact jdoe@example.com"},
		{"paths without a query stay", "at check (/app/auth.js:1:1) in /srv/x/", "at check (/app/auth.js:1:1) in /srv/x/"},
		{"a uuid that is not a session stays", "contact CHAT_AGM_9d1c2b3a-4e5f-4a6b-8c7d-0e1f2a3b4c5d", "contact CHAT_AGM_9d1c2b3a-4e5f-4a6b-8c7d-0e1f2a3b4c5d"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Line(tc.in); got != tc.want {
				t.Errorf("Line(%q)\n = %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestRegisteredSecretsAreNeverPrinted(t *testing.T) {
	Register("  hunter2-but-longer\n")
	Register("abc") // too short to search for: every line would be masked
	got := Line("auth failed for hunter2-but-longer (also \"  hunter2-but-longer\n\") abc")
	if strings.Contains(got, "hunter2") {
		t.Errorf("secret printed: %q", got)
	}
	if !strings.HasSuffix(got, " abc") {
		t.Errorf("short strings are left alone: %q", got)
	}
	if got := Answer([]byte("echo: hunter2-but-longer"), 300); strings.Contains(got, "hunter2") {
		t.Errorf("secret in an answer: %q", got)
	}
	Register("Sec/ret&Pass1")
	if got := Answer([]byte(`{"error":"bad key Sec\/ret\u0026Pass1"}`), 300); strings.Contains(got, "ret") {
		t.Errorf("a key with JSON escapes in an answer: %q", got)
	}
	// A server that escapes '/' as JSON allows (attacker review).
	Register("VnVhQ2ZHY0JD/SECRETTAILabcdef==")
	if got := Answer([]byte(`{"headers":{"Authorization":"ApiKey VnVhQ2ZHY0JD\/SECRETTAILabcdef=="}}`), 300); strings.Contains(got, "SECRETTAIL") {
		t.Errorf("a key with an escaped slash in an answer: %q", got)
	}
}

func TestAnswerRemovesWhatLooksLikeACredential(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"echoed header", "POST /_bulk HTTP/1.1\r\nAuthorization: ApiKey k3y\r\nHost: es\r\n",
			"POST /_bulk HTTP/1.1  Authorization: ***  Host: es"},
		{"echoed proxy header", "Proxy-Authorization: Basic dTpw\nX: y", "Proxy-Authorization: *** X: y"},
		{"headers as JSON", `{"headers":{"authorization":["ApiKey k3y"],"cookie":"sid=1; x=2"}}`,
			`{"headers":{"authorization":["***"],"cookie":"***"}}`},
		{"labelled values", `password=hunter2&user=x pwd: abc, "secret":"s", "api_key" : "k", shared_key=q`,
			`password=***&user=x pwd: ***, "secret":"***", "api_key" : "***", shared_key=***`},
		{"escaped JSON inside a string", `{"reason":"bad {\"token\":\"t0k\"}"}`, `{"reason":"bad {\"token\":\"***\"}"}`},
		{"CTLive tokens", "ctlivetoken=ab4e7aff-8627 ct7Token: xyz", "ctlivetoken=*** ct7Token: ***"},
		{"query in a URL", "see http://h/cb?code=c0de", "see http://h/cb?code=***"},
		{"a server cannot write log lines", "bad\n[2026/01/01 00:00:00] [error] forged", "bad [2026/01/01 00:00:00] [error] forged"},
		// Attacker review, item D: JSON-escaped white space, forged lines.
		{"JSON-escaped tabs in a header", `{"h":"Authorization:\tBasic\tdXNlcjpwdw=="}`, `{"h":"Authorization:***"}`}, // a backslash and what it escapes are a value's (parser.tokenEnd): more goes, nothing stays
		{"real tabs in a header", "Authorization:\tBasic\tdXNlcjpwdw==", "Authorization: ***"},
		{"unicode-escaped tabs in a header", `{"h":"Authorization:\u0009Basic\u0009dXNlcjpwdw=="}`, `{"h":"Authorization:***"}`},
		{"an escaped line break before a scheme", `"x\nBearer\tdG9rZW4tdmFsdWU="`, `"x\nBearer\t***"`},
		{"JSON-escaped slashes", `{"location":"http:\/\/admin:S3cretPw@h\/x?sig=S1gValue"}`, `{"location":"http://***@h/x?sig=***"}`},
		{"a Digest value in plain text", `<h>Authorization: Digest username="u", response="6629fae49393"</h>`, `<h>Authorization: ***`},
		{"a Digest value in single quotes", `{'authorization': 'Digest username="u", response="6629fae49393"'}`, `{'authorization': '***'}`},
		{"an AWS signature", `Authorization: AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/x, SignedHeaders=host;range, Signature=fe5f80f7`, `Authorization: ***`},
		{"a URL's password in a message", `connect mongodb://ctlive:S3cretPw99@db:27017 refused`, `connect mongodb://***@db:27017 refused`},
		{"a Digest value in a JSON string", `{"h":{"authorization":"Digest username=\"u\", response=\"SECRETRESP\""}}`, `{"h":{"authorization":"***"}}`},
		{"ASCII written as \\u00XX", `{"error":"Bearer abc\u002bdefghijklmnop"}`, `{"error":"Bearer ***"}`},
		{"a Basic value with an escaped slash", `{"headers":{"Authorization":"Basic dXNlcjp\/cGFzc3dvcmQ="}}`, `{"headers":{"Authorization":"***"}}`},
		{"a Bearer value with an escaped slash", `{"h":"Bearer abcdefgh\/ijklmnopqrstuv"}`, `{"h":"Bearer ***"}`},
		{"a session in an answer", `{"error":"unknown session 9d1c2b3a-4e5f-4a6b-8c7d-0e1f2a3b4c5d"}`, `{"error":"unknown session ***"}`},
		{"a forged line with a password", "x password=Hunter2Pw\n[2026/01/01 00:00:00] [ info] forged line",
			"x password=*** [2026/01/01 00:00:00] [ info] forged line"},
		{"ordinary answers are kept", `{"error":{"type":"mapper_parsing_exception","reason":"failed to parse field [x]"}}`,
			`{"error":{"type":"mapper_parsing_exception","reason":"failed to parse field [x]"}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Answer([]byte(tc.in), 1000); got != tc.want {
				t.Errorf("Answer(%q)\n = %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestAnswerIsCutAfterScrubbing(t *testing.T) {
	long := strings.Repeat("é", 400) // two bytes each: the cut must not split one
	got := Answer([]byte(long), 301)
	if len(got) > 304 || !strings.HasSuffix(got, "...") || !utf8.ValidString(got) {
		t.Errorf("cut to %d bytes, valid %v", len(got), utf8.ValidString(got))
	}
	// A token across the cut is masked whole, not half shown.
	got = Answer([]byte(strings.Repeat("x", 290)+" token=abcdefghijklmnop"), 300)
	if strings.Contains(got, "abcdef") {
		t.Errorf("half a token shown: %q", got)
	}
	if got := Answer([]byte("  short answer\n"), 300); got != "short answer" {
		t.Errorf("%q", got)
	}
}

// Scrubbing is linear: inputs built to make a naive scanner go back and
// forth take as long per byte as plain text (checked by the fuzz target's
// output bound and by BenchmarkWorstCase, not by a timer).
func FuzzScrub(f *testing.F) {
	for _, s := range []string{
		"tcp://user:pass@host:24224?shared_key=s3cret", "Authorization: Bearer x", "eyJa.eyJb.c",
		`"password":"x"`, "1://1://1://", "password     ", "Basic \t dXM=", "\xff\x00\r\n",
	} {
		f.Add(s, "s3cret-value")
	}
	for _, s := range []string{"//a:b@c", "http:/u:pw@h", "/x?y=z", "a:b@c@d", `Authorization:\tBasic\tx`, "session 9d1c2b3a-4e5f-4a6b-8c7d-0e1f2a3b4c5d"} {
		f.Add(s, "s3cret-value")
	}
	f.Fuzz(func(t *testing.T, s, secret string) {
		// Credentials planted between any texts never show (item D).
		if !strings.Contains(s, "S3cretPw") && !strings.Contains(s, "S1gValue") && !strings.Contains(s, "4e5f-4a6b") {
			const planted = " //admin:S3cretPw@es:9200/x?X-Amz-Signature=S1gValue http:/u:S3cretPw@h admin:S3cretPw@es " +
				"/y?sig=S1gValue session 9d1c2b3a-4e5f-4a6b-8c7d-0e1f2a3b4c5d \\tBasic\\tS3cretPw "
			for _, out := range []string{Line(s + planted + s), Answer([]byte(s+planted+s), 1<<20)} {
				for _, v := range []string{"S3cretPw", "S1gValue", "4e5f-4a6b"} {
					if strings.Contains(out, v) {
						t.Fatalf("%s shows in %q", v, out)
					}
				}
			}
		}
		line := Line(s)
		if len(line) > 4*len(s)+8 {
			t.Fatalf("Line grew %d bytes to %d", len(s), len(line))
		}
		ans := Answer([]byte(s), 300)
		if len(ans) > 303 {
			t.Fatalf("Answer of %d bytes", len(ans))
		}
		if !utf8.ValidString(ans) || strings.ContainsAny(ans, "\r\n\x00") {
			t.Fatalf("Answer %q is not one line of text", ans)
		}
		if len(secret) >= MinSecret && !strings.Contains(secret, "*") && secret == strings.TrimSpace(secret) {
			if got := secrets(s, []string{secret}); strings.Contains(got, secret) {
				t.Fatalf("secret %q left in %q", secret, got)
			}
		}
		if u := URL(s); len(u) > 4*len(s)+8 {
			t.Fatalf("URL grew %d bytes to %d", len(s), len(u))
		}
	})
}

func BenchmarkWorstCase(b *testing.B) {
	inputs := map[string]string{
		"text":            strings.Repeat("ordinary log text, ", 1000),
		"schemes":         strings.Repeat("1://", 5000),
		"names":           strings.Repeat("password     ", 1500),
		"jwt starts":      strings.Repeat("eyJ.", 5000),
		"bearer no token": strings.Repeat("Bearer  ", 2500),
		"at signs":        strings.Repeat("a:b@", 5000),
		"at signs alone":  strings.Repeat("@", 20000),
		"relative urls":   strings.Repeat(" /?", 5000),
		"scheme colons":   strings.Repeat("a:/", 5000),
		"sessions":        strings.Repeat("session \\t", 2000),
		"escaped tabs":    strings.Repeat("\\t", 10000),
	}
	for name, in := range inputs {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				Answer([]byte(in), 300)
				Line(in)
			}
		})
	}
}
