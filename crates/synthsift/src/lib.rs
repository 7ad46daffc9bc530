pub mod codes;
pub mod select;
