//! `spectrum db stats`.

use spectrum_chainspec::ChainSpec;

use crate::datadir::DataDir;

pub fn stats(spec: &ChainSpec, datadir: &DataDir) -> eyre::Result<()> {
    if !datadir.db().exists() {
        eyre::bail!(
            "no database in {}: run `spectrum init` first",
            datadir.path().display()
        );
    }
    let db = super::open_initialised(spec, datadir)?;
    match db.head()? {
        Some((number, hash)) => println!("head: {number} {hash}"),
        None => println!("head: none"),
    }
    println!("{:<20} {:>14} {:>14}", "table", "keys (est.)", "bytes");
    let mut total = 0u64;
    for table in db.stats()? {
        total = total.saturating_add(table.size_bytes);
        println!(
            "{:<20} {:>14} {:>14}",
            table.name, table.estimated_keys, table.size_bytes
        );
    }
    println!("{:<20} {:>14} {:>14}", "total", "", total);
    Ok(())
}
