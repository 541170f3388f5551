//! Incentive statements (结算单): what each partner earned from a rebate program over some months,
//! computed from its performance records, agreed targets and active contracts' rebate terms, line
//! by line with the arithmetic explained; approved statements never change (adjustments instead).

pub mod api;
pub mod model;
pub mod store;
