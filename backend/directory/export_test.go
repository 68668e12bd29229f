package directory

// WithBatch sets how many entries an import writes per command, so that a
// test's directory is written in several steps.
func WithBatch(n int) Option { return func(d *Directory) { d.batch = n } }
