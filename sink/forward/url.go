package forward

import (
	"fmt"
	"net"
	"net/url"
	"path"
	"strconv"
	"strings"

	"github.com/ctlive/ctlive-fluent-bit/internal/scrub"
)

// DefaultPort is the Forward protocol's well-known port, in_forward's default
// (plugins/in_forward/fw_config.c:fw_config_init).
const DefaultPort = 24224

// Endpoint is where a Client connects: Network is "tcp" or "unix", Address is
// "host:port" or an absolute socket path.
type Endpoint struct {
	Network string
	Address string
}

// String renders the endpoint back as a URL.
func (e Endpoint) String() string {
	if e.Network == "unix" {
		return "unix://" + e.Address
	}
	return e.Network + "://" + e.Address
}

// ParseURL parses "tcp://host[:port]" (port defaults to 24224) or
// "unix:///absolute/path". Anything else, including TLS, UDP, bare host:port,
// user info, queries and fragments, is rejected; the errors quote the URL
// without its user information and query values (scrub.URL).
func ParseURL(raw string) (Endpoint, error) {
	s := strings.TrimSpace(raw)
	raw = scrub.URL(raw) // from here on, raw is only quoted
	if s == "" {
		return Endpoint{}, fmt.Errorf("forward: empty URL; want tcp://host:port or unix:///path")
	}
	if !strings.Contains(s, "://") {
		return Endpoint{}, fmt.Errorf("forward: URL %q has no scheme; want tcp://host:port or unix:///path", raw)
	}
	u, err := url.Parse(s)
	if err != nil {
		return Endpoint{}, fmt.Errorf("forward: invalid URL %q: %s", raw, scrub.ParseError(err))
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return Endpoint{}, fmt.Errorf("forward: URL %q must not have user info, query or fragment", raw)
	}
	switch u.Scheme {
	case "tcp":
		return parseTCP(raw, u)
	case "unix":
		return parseUnix(raw, u)
	default:
		return Endpoint{}, fmt.Errorf("forward: unsupported scheme %q in %q; want tcp:// or unix://", u.Scheme, raw)
	}
}

func parseTCP(raw string, u *url.URL) (Endpoint, error) {
	if u.Path != "" && u.Path != "/" {
		return Endpoint{}, fmt.Errorf("forward: tcp URL %q must not have a path", raw)
	}
	host := u.Hostname()
	if host == "" {
		return Endpoint{}, fmt.Errorf("forward: tcp URL %q has no host", raw)
	}
	port := DefaultPort
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return Endpoint{}, fmt.Errorf("forward: tcp URL %q has invalid port %q", raw, p)
		}
		port = n
	} else if strings.HasSuffix(u.Host, ":") {
		return Endpoint{}, fmt.Errorf("forward: tcp URL %q has an empty port", raw)
	}
	return Endpoint{Network: "tcp", Address: net.JoinHostPort(host, strconv.Itoa(port))}, nil
}

func parseUnix(raw string, u *url.URL) (Endpoint, error) {
	if u.Host != "" {
		// "unix://run/fb.sock" puts "run" in the host; say what was meant.
		return Endpoint{}, fmt.Errorf("forward: unix URL %q must be unix:///absolute/path (three slashes)", raw)
	}
	if u.Path == "" || !strings.HasPrefix(u.Path, "/") || strings.HasSuffix(u.Path, "/") {
		return Endpoint{}, fmt.Errorf("forward: unix URL %q needs an absolute socket path", raw)
	}
	return Endpoint{Network: "unix", Address: path.Clean(u.Path)}, nil
}
