module github.com/ctlive/ctlive-fluent-bit

go 1.26

require (
	github.com/VictoriaMetrics/metrics v1.45.0
	github.com/fluent/fluent-bit-go v0.0.0-20230731091245-a7a013e2473c
	github.com/json-iterator/go v1.1.12
	github.com/klauspost/compress v1.18.6
	github.com/prometheus/client_model v0.6.2
	github.com/prometheus/common v0.66.1
	github.com/tinylib/msgp v1.6.5
	golang.org/x/term v0.37.0
	google.golang.org/protobuf v1.36.12
)

require (
	github.com/kr/pretty v0.3.1 // indirect
	github.com/modern-go/concurrent v0.0.0-20180228061459-e0a39a4cb421 // indirect
	github.com/modern-go/reflect2 v1.0.2 // indirect
	github.com/munnerz/goautoneg v0.0.0-20191010083416-a7dc8b61c822 // indirect
	github.com/philhofer/fwd v1.2.0 // indirect
	github.com/ugorji/go/codec v1.1.7 // indirect
	github.com/valyala/fastrand v1.1.0 // indirect
	github.com/valyala/histogram v1.2.0 // indirect
	go.yaml.in/yaml/v2 v2.4.2 // indirect
	golang.org/x/sys v0.38.0 // indirect
)
