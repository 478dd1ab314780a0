//! The shared state every method reads, and how method tables become a jsonrpsee module.

use std::sync::{Arc, Mutex, atomic::AtomicUsize};

use alloy_primitives::{B256, U256};
use jsonrpsee::{RpcModule, core::RegisterMethodError, types::Params};
use serde::Serialize;
use serde_json::Value;
use spectrum_execution::BlockExecutor;
use spectrum_primitives::SealedHeader;
use spectrum_tribe_state::ChiefContracts;

use crate::{
    Namespace, RpcContext, RpcLimits,
    error::{ApiResult, internal, server_error},
    filters::FilterStore,
    heavy::HeavyPool,
    params::{BlockId, positional},
};

/// Everything a method needs: the node's context plus the RPC's own state.
pub(crate) struct Api {
    pub(crate) ctx: RpcContext,
    pub(crate) limits: RpcLimits,
    pub(crate) executor: BlockExecutor,
    pub(crate) chief: ChiefContracts,
    pub(crate) filters: FilterStore,
    /// Where heavy methods run (their own threads, bounded admission).
    pub(crate) heavy: HeavyPool,
    /// Live subscriptions over all WebSocket connections.
    pub(crate) subscriptions: AtomicUsize,
    /// `eth_gasPrice` of the head it was computed at.
    pub(crate) gas_price_cache: Mutex<Option<(B256, U256)>>,
    /// The accounts this node signs for (`--dev` only; `dev.rs`).
    pub(crate) dev: crate::dev::DevSigners,
    /// The accounts `eth_sendTransaction` runs as without their keys (`--dev` only).
    pub(crate) impersonation: crate::dev_controls::Impersonation,
}

impl Api {
    pub(crate) fn new(ctx: RpcContext, limits: RpcLimits) -> Self {
        let executor = BlockExecutor::spectrum(ctx.spec.clone());
        let chief = ChiefContracts::new(ctx.db.clone(), ctx.spec.clone());
        let filters = FilterStore::new(
            limits.max_filters,
            limits.max_filter_buffer,
            limits.max_filter_bytes,
        );
        let heavy = HeavyPool::new(limits.heavy_threads, limits.heavy_queue);
        Self {
            ctx,
            limits,
            executor,
            chief,
            filters,
            heavy,
            subscriptions: AtomicUsize::new(0),
            gas_price_cache: Mutex::new(None),
            dev: crate::dev::DevSigners::default(),
            impersonation: Default::default(),
        }
    }

    /// The canonical head's number and hash.
    pub(crate) fn head(&self) -> ApiResult<(u64, B256)> {
        self.ctx
            .db
            .head()
            .map_err(internal)?
            .ok_or_else(|| internal("the database has no head"))
    }

    /// The head header.
    pub(crate) fn head_header(&self) -> ApiResult<SealedHeader> {
        let (_, hash) = self.head()?;
        self.ctx
            .db
            .header(&hash)
            .map_err(internal)?
            .ok_or_else(|| internal("the head header is missing"))
    }

    /// The number of the canonical block a number-like parameter names (`None`: no such
    /// block). A hash names any known block unless `require_canonical`.
    pub(crate) fn resolve(&self, block: BlockId) -> ApiResult<Option<(u64, B256)>> {
        let db = &self.ctx.db;
        match block {
            BlockId::Latest | BlockId::Pending => self.head().map(Some),
            BlockId::Earliest => Ok(db.canonical_hash(0).map_err(internal)?.map(|h| (0, h))),
            BlockId::Number(n) => Ok(db.canonical_hash(n).map_err(internal)?.map(|h| (n, h))),
            BlockId::Hash {
                hash,
                require_canonical,
            } => {
                let Some(number) = db.block_number(&hash).map_err(internal)? else {
                    return Ok(None);
                };
                if require_canonical && db.canonical_hash(number).map_err(internal)? != Some(hash) {
                    return Err(server_error(format!(
                        "hash {hash} is not currently canonical"
                    )));
                }
                Ok(Some((number, hash)))
            }
        }
    }

    /// The header a block parameter names, or geth's "header not found".
    pub(crate) fn header_for(&self, block: BlockId) -> ApiResult<SealedHeader> {
        let (_, hash) = self
            .resolve(block)?
            .ok_or_else(|| server_error("header not found"))?;
        self.ctx
            .db
            .header(&hash)
            .map_err(internal)?
            .ok_or_else(|| server_error("header not found"))
    }
}

/// A method: decoded positional parameters in, a serialisable answer out.
pub(crate) type Handler<R> = fn(&Api, &[Value]) -> ApiResult<R>;

/// Whether a method runs on the connection's task or the heavy pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Run {
    /// Quick reads: a few database lookups.
    Inline,
    /// EVM runs and scans: on the heavy pool ([`HeavyPool`]), under its admission limit.
    Heavy,
}

/// One method of a namespace.
pub(crate) struct Method<R: 'static> {
    pub(crate) name: &'static str,
    pub(crate) run: Run,
    pub(crate) handler: Handler<R>,
}

/// Shorthand for a table entry.
pub(crate) const fn inline<R>(name: &'static str, handler: Handler<R>) -> Method<R> {
    Method {
        name,
        run: Run::Inline,
        handler,
    }
}

/// Shorthand for a table entry run on the heavy pool.
pub(crate) const fn heavy<R>(name: &'static str, handler: Handler<R>) -> Method<R> {
    Method {
        name,
        run: Run::Heavy,
        handler,
    }
}

/// Registers `methods` on `module`.
pub(crate) fn register<R>(
    module: &mut RpcModule<Api>,
    methods: &[Method<R>],
) -> Result<(), RegisterMethodError>
where
    R: Serialize + Clone + Send + 'static,
{
    for method in methods {
        let handler = method.handler;
        match method.run {
            Run::Inline => {
                module.register_method(method.name, move |raw: Params<'_>, api, _| {
                    let values = positional(&raw)?;
                    handler(api, &values)
                })?;
            }
            Run::Heavy => {
                module.register_async_method(
                    method.name,
                    move |raw: Params<'static>, api, _| async move {
                        let values = positional(&raw)?;
                        let worker = api.clone();
                        api.heavy.request(move || handler(&worker, &values)).await
                    },
                )?;
            }
        }
    }
    Ok(())
}

/// The module of the given namespaces over `api`.
pub(crate) fn module(
    api: Arc<Api>,
    namespaces: &[Namespace],
) -> Result<RpcModule<Api>, RegisterMethodError> {
    let dev = !api.dev.is_empty();
    let dev_controls = api.ctx.dev_controls.is_some();
    let mut module = RpcModule::from_arc(api);
    for namespace in namespaces {
        match namespace {
            Namespace::Eth => {
                register(&mut module, crate::state::METHODS)?;
                register(&mut module, crate::blocks::METHODS)?;
                register(&mut module, crate::call::METHODS)?;
                register(&mut module, crate::filters::METHODS)?;
                register(&mut module, crate::misc::ETH_METHODS)?;
                register(&mut module, crate::proof::METHODS)?;
                if dev {
                    register(&mut module, crate::dev::METHODS)?;
                }
                // evm_*, anvil_*, hardhat_* (issue 19): only with the producer's controls.
                if dev_controls {
                    crate::dev_controls::register(&mut module)?;
                }
                crate::pubsub::register(&mut module)?;
            }
            Namespace::Net => register(&mut module, crate::misc::NET_METHODS)?,
            Namespace::Web3 => register(&mut module, crate::misc::WEB3_METHODS)?,
            Namespace::Txpool => register(&mut module, crate::txpool::METHODS)?,
            Namespace::Tribe => {
                register(&mut module, crate::tribe::METHODS)?;
                // Our validator extensions (tribe_nextSlots, tribe_missedSlots).
                register(&mut module, crate::tribe_slots::METHODS)?;
            }
            Namespace::Debug => register(&mut module, crate::debug::METHODS)?,
            Namespace::Admin => register(&mut module, crate::admin::METHODS)?,
        }
    }
    let names: Vec<&'static str> = namespaces.iter().map(|n| n.name()).collect();
    module.register_method("rpc_modules", move |_, _, _| {
        let map: serde_json::Map<String, Value> = names
            .iter()
            .map(|n| ((*n).to_owned(), Value::String("1.0".to_owned())))
            .collect();
        Value::Object(map)
    })?;
    Ok(module)
}
