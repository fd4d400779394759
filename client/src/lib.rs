//! # Provena client
//!
//! The library behind the `provena` command: what devices, gateways, owners and auditors do
//! with a Provena chain. It shares bytes with the runtime only through `provena-primitives`, so
//! what it signs and hashes is exactly what the chain checks.
//!
//! - [`readings`]: consecutive readings into Merkle batches and device-signed anchors.

pub mod readings;
