//! The GCP stand-in's settings.

/// How the stand-in behaves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GcpFakeConfig {
    /// The port to listen on (0: any free port).
    pub port: u16,
    /// Polls a long-running operation needs before it reports done (0: at once).
    pub operation_polls: u32,
    /// The project number every project reports (Service Networking and
    /// Resource Manager name projects by number).
    pub project_number: u64,
    /// The projects that exist; empty: every project id exists. Compute and GKE
    /// answer 404 for a project not listed.
    pub projects: Vec<String>,
    /// Zones reported `DOWN` by Compute (e.g. `europe-west2-c`); GKE refuses to
    /// place clusters or node pools in them.
    pub down_zones: Vec<String>,
}

/// The project number used when none is configured.
pub const DEFAULT_PROJECT_NUMBER: u64 = 123_456_789_012;

impl Default for GcpFakeConfig {
    fn default() -> Self {
        Self {
            port: 0,
            operation_polls: 2,
            project_number: DEFAULT_PROJECT_NUMBER,
            projects: Vec::new(),
            down_zones: Vec::new(),
        }
    }
}

impl GcpFakeConfig {
    /// Listens on this port of 127.0.0.1.
    pub fn with_port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Operations report done after this many polls.
    pub fn with_operation_polls(mut self, polls: u32) -> Self {
        self.operation_polls = polls;
        self
    }

    /// Only these projects exist (Compute and GKE answer 404 for others).
    pub fn with_projects<I: IntoIterator<Item = S>, S: Into<String>>(
        mut self,
        projects: I,
    ) -> Self {
        self.projects = projects.into_iter().map(Into::into).collect();
        self
    }

    /// Reports `zone` as `DOWN`.
    pub fn with_down_zone(mut self, zone: impl Into<String>) -> Self {
        self.down_zones.push(zone.into());
        self
    }

    /// Whether `project` exists.
    pub fn has_project(&self, project: &str) -> bool {
        self.projects.is_empty() || self.projects.iter().any(|p| p == project)
    }
}
