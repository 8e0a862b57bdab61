//! The C ABI's handle registries (see [`crate::handles`]).

use once_cell::sync::Lazy;

use crate::handles::HandleRegistry;
use crate::{Store, StoreFactory};

/// Open factories. A closed factory stays registered, answering `SS_ERR_CLOSED`.
pub(crate) static FACTORIES: Lazy<HandleRegistry<StoreFactory>> =
    Lazy::new(|| HandleRegistry::new("ss_factory", 0x5F));
/// Open stores.
pub(crate) static STORES: Lazy<HandleRegistry<Store>> =
    Lazy::new(|| HandleRegistry::new("ss_store", 0x5E));
