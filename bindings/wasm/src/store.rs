//! Storage through the application's asynchronous JavaScript store.
//!
//! The engine's storage calls are synchronous; a JavaScript store (IndexedDB)
//! answers only through promises. So the engine runs on a mirror of the
//! store in memory: the records are read from the JavaScript store once, when
//! a client is opened, and every batch the engine writes is applied to the
//! mirror and queued. Before an operation's result is handed to JavaScript,
//! its queued batches are passed to the store's `putBatch` one by one and
//! awaited ([`Durable`]); batches of successive operations are put in the
//! order they were written, each after the previous one resolved. Nothing
//! leaves the library before the store has it.
//!
//! If a `putBatch` rejects, the store may lack a transition the mirror has:
//! the client and its groups refuse every later operation (the error's
//! action is `reopen`), and are opened again from the store.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::{Arc, Mutex};

use arbor_mls::storage::{SharedStorage, Storage, WriteBatch};
use arbor_mls::{Error, Result};
use js_sys::{Array, Function, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use zeroize::Zeroize;

/// How many records a store may hand over at open: a limit on the memory
/// the mirror takes before the engine sees any of it.
pub(crate) const MAX_RECORDS: usize = 1 << 20;

/// The records of the store, as the engine sees them, and the batches not
/// yet handed to the JavaScript store.
#[derive(Default)]
pub(crate) struct Mirror {
    records: BTreeMap<Vec<u8>, Vec<u8>>,
    queued: Vec<WriteBatch>,
}

impl Drop for Mirror {
    fn drop(&mut self) {
        for value in self.records.values_mut() {
            value.zeroize();
        }
    }
}

impl Mirror {
    /// A mirror holding `records` (as read from the store).
    pub(crate) fn with_records(records: BTreeMap<Vec<u8>, Vec<u8>>) -> Self {
        Self {
            records,
            queued: Vec::new(),
        }
    }

    /// The batches written since the last call, in order.
    pub(crate) fn take_queued(&mut self) -> Vec<WriteBatch> {
        std::mem::take(&mut self.queued)
    }

    fn apply(&mut self, batch: &WriteBatch) {
        for prefix in &batch.delete_prefixes {
            let doomed: Vec<Vec<u8>> = self
                .records
                .keys()
                .filter(|k| k.starts_with(prefix))
                .cloned()
                .collect();
            for key in doomed {
                if let Some(mut old) = self.records.remove(&key) {
                    old.zeroize();
                }
            }
        }
        for (key, value) in &batch.ops {
            let old = match value {
                Some(v) => self.records.insert(key.clone(), v.clone()),
                None => self.records.remove(key),
            };
            if let Some(mut old) = old {
                old.zeroize();
            }
        }
    }
}

/// A copy of `batch` (a `WriteBatch` is not `Clone`: its values are
/// secrets, zeroized when either copy is dropped).
fn copy(batch: &WriteBatch) -> WriteBatch {
    WriteBatch {
        ops: batch.ops.clone(),
        delete_prefixes: batch.delete_prefixes.clone(),
    }
}

impl Storage for Mirror {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.records.get(key).cloned())
    }

    fn scan(&self, prefix: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        Ok(self
            .records
            .range(prefix.to_vec()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }

    fn write(&mut self, batch: WriteBatch) -> Result<()> {
        self.apply(&batch);
        self.queued.push(copy(&batch));
        Ok(())
    }
}

/// The mirror, shared by a client and its groups, and the JavaScript store
/// its batches go to.
pub(crate) struct Durable {
    mirror: Arc<Mutex<Mirror>>,
    store: JsValue,
    /// Resolves when every batch queued so far is in the store; rejects if
    /// one of them was refused.
    tail: RefCell<Promise>,
    broken: Rc<Cell<bool>>,
}

impl Durable {
    /// Reads every record of `store` (its `scan` of the empty prefix) into a
    /// new mirror.
    pub(crate) async fn open(store: JsValue) -> std::result::Result<Rc<Self>, JsValue> {
        let scanned = JsFuture::from(call_promise(
            &store,
            "scan",
            &[Uint8Array::new_with_length(0).into()],
        )?)
        .await?;
        let rows = Array::from(&scanned);
        if rows.length() as usize > MAX_RECORDS {
            return Err(js_error(&format!(
                "the store holds {} records, more than the {MAX_RECORDS} a client opens",
                rows.length()
            )));
        }
        let mut records = BTreeMap::new();
        for row in rows.iter() {
            let pair = Array::from(&row);
            let key = bytes_of(&pair.get(0), "a scanned key")?;
            let value = bytes_of(&pair.get(1), "a scanned value")?;
            records.insert(key, value);
        }
        Ok(Rc::new(Self {
            mirror: Arc::new(Mutex::new(Mirror::with_records(records))),
            store,
            tail: RefCell::new(Promise::resolve(&JsValue::UNDEFINED)),
            broken: Rc::new(Cell::new(false)),
        }))
    }

    /// The mirror as the engine's storage.
    pub(crate) fn storage(&self) -> SharedStorage {
        self.mirror.clone()
    }

    /// Refuses to start an operation once a batch was refused.
    pub(crate) fn check(&self) -> Result<()> {
        if self.broken.get() {
            return Err(Error::StorageUncertain(
                "the JavaScript store refused a batch: it may lack a transition this client \
                 made; open the client again from the store"
                    .into(),
            ));
        }
        Ok(())
    }

    /// A promise of `result`, settled once the batches queued by now are in
    /// the store (after those of earlier operations). If the store refuses
    /// one, it rejects with that refusal instead and the client is broken.
    pub(crate) fn settle(&self, result: std::result::Result<JsValue, JsValue>) -> Promise {
        let batches = match self.mirror.lock() {
            Ok(mut mirror) => mirror.take_queued(),
            Err(_) => Vec::new(),
        };
        let previous = self.tail.borrow().clone();
        let store = self.store.clone();
        let broken = self.broken.clone();
        let written = wasm_bindgen_futures::future_to_promise(async move {
            JsFuture::from(previous).await?;
            for batch in &batches {
                let put = call_promise(&store, "putBatch", &[batch_to_js(batch)]);
                let outcome = match put {
                    Ok(promise) => JsFuture::from(promise).await,
                    Err(e) => Err(e),
                };
                if let Err(e) = outcome {
                    broken.set(true);
                    return Err(e);
                }
            }
            Ok(JsValue::UNDEFINED)
        });
        *self.tail.borrow_mut() = written.clone();
        wasm_bindgen_futures::future_to_promise(async move {
            JsFuture::from(written).await.map_err(|refused| {
                let error = js_error(
                    "the store refused a batch: this operation's result was discarded; open \
                     the client again from the store",
                );
                set(&error, "action", &"reopen".into());
                set(&error, "cause", &refused);
                error
            })?;
            result
        })
    }
}

/// `{ deletePrefixes: Uint8Array[], ops: [key, value | null][] }`.
fn batch_to_js(batch: &WriteBatch) -> JsValue {
    let prefixes: Array = batch
        .delete_prefixes
        .iter()
        .map(|p| JsValue::from(Uint8Array::from(p.as_slice())))
        .collect();
    let ops: Array = batch
        .ops
        .iter()
        .map(|(key, value)| {
            let value = match value {
                Some(v) => JsValue::from(Uint8Array::from(v.as_slice())),
                None => JsValue::NULL,
            };
            JsValue::from(Array::of2(&Uint8Array::from(key.as_slice()), &value))
        })
        .collect();
    let object = js_sys::Object::new();
    set(&object, "deletePrefixes", &prefixes);
    set(&object, "ops", &ops);
    object.into()
}

/// Calls `store[name](...args)` and expects a promise (or a value, taken as
/// resolved).
fn call_promise(
    store: &JsValue,
    name: &str,
    args: &[JsValue],
) -> std::result::Result<Promise, JsValue> {
    let method = Reflect::get(store, &name.into())?;
    let method: Function = method
        .dyn_into()
        .map_err(|_| js_error(&format!("the store has no method `{name}`")))?;
    let result = method.apply(store, &args.iter().collect::<Array>())?;
    Ok(Promise::resolve(&result))
}

/// The bytes of a `Uint8Array`, or a TypeError naming `what`.
pub(crate) fn bytes_of(value: &JsValue, what: &str) -> std::result::Result<Vec<u8>, JsValue> {
    value
        .dyn_ref::<Uint8Array>()
        .map(Uint8Array::to_vec)
        .ok_or_else(|| js_sys::TypeError::new(&format!("{what} is not a Uint8Array")).into())
}

/// A JavaScript `Error` with `message`.
pub(crate) fn js_error(message: &str) -> JsValue {
    js_sys::Error::new(message).into()
}

/// `object[key] = value`; setting a property of a fresh object cannot fail.
pub(crate) fn set(object: &JsValue, key: &str, value: &JsValue) {
    let _ = Reflect::set(object, &key.into(), value);
}
