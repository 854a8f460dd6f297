package forward

import (
	"strings"
	"testing"
)

func TestParseURL(t *testing.T) {
	cases := []struct {
		in      string
		want    Endpoint
		wantErr string
	}{
		{in: "tcp://127.0.0.1:24225", want: Endpoint{"tcp", "127.0.0.1:24225"}},
		{in: "tcp://fluent-bit", want: Endpoint{"tcp", "fluent-bit:24224"}},
		{in: "TCP://localhost/", want: Endpoint{"tcp", "localhost:24224"}},
		{in: "tcp://[::1]:9000", want: Endpoint{"tcp", "[::1]:9000"}},
		{in: "tcp://[::1]", want: Endpoint{"tcp", "[::1]:24224"}},
		{in: " unix:///run/fluent-bit/forward.sock ", want: Endpoint{"unix", "/run/fluent-bit/forward.sock"}},
		{in: "unix:///tmp/../run/fb.sock", want: Endpoint{"unix", "/run/fb.sock"}},
		{in: "", wantErr: "empty URL"},
		{in: "127.0.0.1:24224", wantErr: "no scheme"},
		{in: "udp://127.0.0.1:24224", wantErr: "unsupported scheme"},
		{in: "tls://127.0.0.1:24224", wantErr: "unsupported scheme"},
		{in: "http://127.0.0.1:24224", wantErr: "unsupported scheme"},
		{in: "tcp://:24224", wantErr: "no host"},
		{in: "tcp://host:0", wantErr: "invalid port"},
		{in: "tcp://host:65536", wantErr: "invalid port"},
		{in: "tcp://host:http", wantErr: "invalid"},
		{in: "tcp://host:", wantErr: "empty port"},
		{in: "tcp://host:24224/path", wantErr: "must not have a path"},
		{in: "tcp://user@host:24224", wantErr: "user info"},
		{in: "tcp://host:24224?x=1", wantErr: "query"},
		{in: "unix://run/fb.sock", wantErr: "three slashes"},
		{in: "unix://", wantErr: "absolute socket path"},
		{in: "unix:///run/", wantErr: "absolute socket path"},
		{in: "unix:relative.sock", wantErr: "no scheme"},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseURL(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseURL(%q) = %v, %v; want error containing %q", tc.in, got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseURL(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			}
			if back, err := ParseURL(got.String()); err != nil || back != got {
				t.Fatalf("round trip of %v: %v, %v", got, back, err)
			}
		})
	}
}
