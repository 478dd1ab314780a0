//! Placeholder: the execution issue fills this crate.
