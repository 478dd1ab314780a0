//! Placeholder: chain-file reading and writing.
