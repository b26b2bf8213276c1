//! Each configuration file as text, for the programs that check them in CI
//! (`promtool check config`, `promtool check rules`, `promtool test rules`,
//! `amtool check-config`) and the typed checks of the ones with no binary here
//! (Loki, Tempo, Alloy, Grafana).

pub use crate::alertmanager::alertmanager_config;
pub use crate::alloy::alloy_config;
pub use crate::grafana::datasources_yaml;
pub use crate::loki::loki_config;
pub use crate::prometheus::prometheus_config;
pub use crate::rules::{rule_tests_yaml, rules_yaml};
pub use crate::tempo::tempo_config;
