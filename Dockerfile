# Fluent Bit with the ctlive output plugin.
#
#   docker build -t ctlive-fluent-bit .
#   docker run --rm -v /path/to/ctlive.log:/var/log/ctlive.log \
#       -e CTLIVE_LOG=/var/log/ctlive.log ctlive-fluent-bit
#
# The official fluent/fluent-bit 5.1 image is distroless Debian 13 (trixie).
# A Go plugin is a shared object linked against glibc, so it is built on the
# same Debian release: built on an older glibc it would load, but a newer one
# could fail with "version GLIBC_x not found".
ARG FLUENT_BIT_VERSION=5.1.1
ARG GO_VERSION=1.26

FROM golang:${GO_VERSION}-trixie AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# simd: the parser's AVX2 classifier (falls back at run time without AVX2).
# go build reads plugin/default.pgo, the profile the plugin is optimized with.
RUN CGO_ENABLED=1 GOEXPERIMENT=simd go build -buildmode=c-shared -trimpath -o /out/out_ctlive.so ./plugin \
 && printf '[PLUGINS]\n    Path /fluent-bit/plugins/out_ctlive.so\n' > /out/plugins.conf

FROM fluent/fluent-bit:${FLUENT_BIT_VERSION}
COPY --from=build /out/out_ctlive.so /fluent-bit/plugins/out_ctlive.so
COPY --from=build /out/plugins.conf /fluent-bit/etc/plugins.conf
COPY fluent-bit.conf parsers.conf /fluent-bit/etc/
COPY testdata/sample.log /fluent-bit/etc/testdata/sample.log
# The configuration's relative paths (plugins.conf, parsers.conf, the
# bundled sample) resolve from here.
WORKDIR /fluent-bit/etc
CMD ["/fluent-bit/bin/fluent-bit", "-c", "/fluent-bit/etc/fluent-bit.conf"]
