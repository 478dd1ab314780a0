//! Log output: `--verbosity` sets the level as geth's does (0 silent … 5 trace); `RUST_LOG`,
//! when set, overrides it with a full `tracing` filter. `--log.format json` writes one JSON
//! object per line ([`json`]); `--log.file` also writes to a size-rotated file ([`rotate`]).

mod json;
mod rotate;

use std::io::IsTerminal;

use tracing_subscriber::{
    EnvFilter, Layer, Registry, layer::SubscriberExt, util::SubscriberInitExt,
};

use crate::cli::{LogFormat, OpsArgs};

type BoxedLayer = Box<dyn Layer<Registry> + Send + Sync>;

/// Installs the global subscriber. A log file that cannot be opened is an error (the operator
/// asked for it); everything else cannot fail.
pub fn init(verbosity: u8, ops: &OpsArgs) -> eyre::Result<()> {
    let level = match verbosity {
        0 => "off",
        1 => "error",
        2 => "warn",
        3 => "info",
        4 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    // Colours only on a terminal: log files and pipes get plain text.
    let mut layers: Vec<BoxedLayer> = vec![layer(
        ops.log_format,
        std::io::stderr,
        std::io::stderr().is_terminal(),
    )];
    if let Some(path) = &ops.log_file {
        let file = rotate::RotatingFile::open(
            path,
            ops.log_maxsize.saturating_mul(1024 * 1024),
            ops.log_keep,
        )?;
        layers.push(layer(ops.log_format, file, false));
    }
    tracing_subscriber::registry()
        .with(layers.with_filter(filter))
        .try_init()
        .map_err(|e| eyre::eyre!("cannot install the logger: {e}"))
}

fn layer<W>(format: LogFormat, writer: W, ansi: bool) -> BoxedLayer
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(writer)
        .with_ansi(ansi);
    match format {
        LogFormat::Text => fmt.boxed(),
        LogFormat::Json => fmt.event_format(json::JsonLines).boxed(),
    }
}
