//! Storage: the object store and its journal of changes, the catalogue of served types,
//! selectors, validation and the API statuses the store answers with. The bottom room:
//! it depends on no other.

pub mod catalogue;
pub mod journal;
pub mod meta;
pub mod selector;
pub mod status;
pub mod store;
pub(crate) mod validate;

pub use catalogue::Resource;
pub use status::ApiError;
pub use store::Store;
