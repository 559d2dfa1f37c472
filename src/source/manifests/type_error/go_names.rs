//! The Go type of each field of a named type (`type Protocol string`, `type ResourceList
//! map[ResourceName]resource.Quantity`, `[]Capability`) in the structs of the kinds kvchain
//! reads: Go's type error names that type (`of type v1.HostPathType`), where k8s-openapi keeps
//! only a plain `String`, `Vec` or `BTreeMap`. Generated from k8s.io/api's core/v1, apps/v1,
//! batch/v1, networking/v1 and storage/v1 types.go (every struct field whose type is a named
//! string, integer, slice or map type of its package; a pointer named by what it points to, as
//! Go's decoder does; embedded EphemeralContainerCommon's fields under EphemeralContainer, the
//! struct Go names) and apimachinery's LabelSelectorRequirement.operator; kinds kvchain never
//! reads (Node, Namespace, Service, PersistentVolume, LimitRange, ResourceQuota, StorageClass,
//! Endpoints, NetworkPolicy) left out. A field this table lacks is said by its underlying type
//! (audit VVV-real: the table held 21 hand-picked fields; `v1.HostPathType` was `string`).

/// The Go type of field `field` of struct `holder` when it is a named type.
pub(super) fn named(holder: &str, field: &str) -> Option<&'static str> {
    Some(match (holder, field) {
        ("AppArmorProfile", "type") => "v1.AppArmorProfileType",
        ("AzureDiskVolumeSource", "cachingMode") => "v1.AzureDataDiskCachingMode",
        ("AzureDiskVolumeSource", "kind") => "v1.AzureDataDiskKind",
        ("CSIDriverSpec", "fsGroupPolicy") => "v1.FSGroupPolicy",
        ("CSIDriverSpec", "volumeLifecycleModes") => "[]v1.VolumeLifecycleMode",
        ("Capabilities", "add") => "[]v1.Capability",
        ("Capabilities", "drop") => "[]v1.Capability",
        ("Container", "imagePullPolicy") => "v1.PullPolicy",
        ("Container", "restartPolicy") => "v1.ContainerRestartPolicy",
        ("Container", "terminationMessagePolicy") => "v1.TerminationMessagePolicy",
        ("ContainerPort", "protocol") => "v1.Protocol",
        ("ContainerResizePolicy", "resourceName") => "v1.ResourceName",
        ("ContainerResizePolicy", "restartPolicy") => "v1.ResourceResizeRestartPolicy",
        ("ContainerRestartRule", "action") => "v1.ContainerRestartRuleAction",
        ("ContainerRestartRuleOnExitCodes", "operator") => {
            "v1.ContainerRestartRuleOnExitCodesOperator"
        }
        ("ContainerStatus", "allocatedResources") => "v1.ResourceList",
        ("ContainerStatus", "stopSignal") => "v1.Signal",
        ("CronJobSpec", "concurrencyPolicy") => "v1.ConcurrencyPolicy",
        ("DaemonSetCondition", "type") => "v1.DaemonSetConditionType",
        ("DaemonSetUpdateStrategy", "type") => "v1.DaemonSetUpdateStrategyType",
        ("DeploymentCondition", "type") => "v1.DeploymentConditionType",
        ("DeploymentStrategy", "type") => "v1.DeploymentStrategyType",
        ("EmptyDirVolumeSource", "medium") => "v1.StorageMedium",
        ("EphemeralContainer", "imagePullPolicy") => "v1.PullPolicy",
        ("EphemeralContainer", "restartPolicy") => "v1.ContainerRestartPolicy",
        ("EphemeralContainer", "terminationMessagePolicy") => "v1.TerminationMessagePolicy",
        ("GRPCAction", "mode") => "v1.GRPCProbeMode",
        ("HTTPGetAction", "protocol") => "v1.HTTPProtocol",
        ("HTTPGetAction", "scheme") => "v1.URIScheme",
        ("HTTPIngressPath", "pathType") => "v1.PathType",
        ("HostPathVolumeSource", "type") => "v1.HostPathType",
        ("ImageVolumeSource", "pullPolicy") => "v1.PullPolicy",
        ("JobCondition", "type") => "v1.JobConditionType",
        ("JobSpec", "completionMode") => "v1.CompletionMode",
        ("JobSpec", "podReplacementPolicy") => "v1.PodReplacementPolicy",
        ("LabelSelectorRequirement", "operator") => "v1.LabelSelectorOperator",
        ("Lifecycle", "stopSignal") => "v1.Signal",
        ("ModifyVolumeStatus", "status") => "v1.PersistentVolumeClaimModifyVolumeStatus",
        ("NodeSelectorRequirement", "operator") => "v1.NodeSelectorOperator",
        ("PersistentVolumeClaimCondition", "status") => "v1.ConditionStatus",
        ("PersistentVolumeClaimCondition", "type") => "v1.PersistentVolumeClaimConditionType",
        ("PersistentVolumeClaimSpec", "accessModes") => "[]v1.PersistentVolumeAccessMode",
        ("PersistentVolumeClaimSpec", "volumeMode") => "v1.PersistentVolumeMode",
        ("PersistentVolumeClaimStatus", "accessModes") => "[]v1.PersistentVolumeAccessMode",
        ("PersistentVolumeClaimStatus", "allocatedResources") => "v1.ResourceList",
        ("PersistentVolumeClaimStatus", "capacity") => "v1.ResourceList",
        ("PersistentVolumeClaimStatus", "phase") => "v1.PersistentVolumeClaimPhase",
        ("PodCondition", "status") => "v1.ConditionStatus",
        ("PodCondition", "type") => "v1.PodConditionType",
        ("PodFailurePolicyOnExitCodesRequirement", "operator") => {
            "v1.PodFailurePolicyOnExitCodesOperator"
        }
        ("PodFailurePolicyRule", "action") => "v1.PodFailurePolicyAction",
        ("PodOS", "name") => "v1.OSName",
        ("PodReadinessGate", "conditionType") => "v1.PodConditionType",
        ("PodSecurityContext", "fsGroupChangePolicy") => "v1.PodFSGroupChangePolicy",
        ("PodSecurityContext", "seLinuxChangePolicy") => "v1.PodSELinuxChangePolicy",
        ("PodSecurityContext", "supplementalGroupsPolicy") => "v1.SupplementalGroupsPolicy",
        ("PodSpec", "dnsPolicy") => "v1.DNSPolicy",
        ("PodSpec", "overhead") => "v1.ResourceList",
        ("PodSpec", "preemptionPolicy") => "v1.PreemptionPolicy",
        ("PodSpec", "restartPolicy") => "v1.RestartPolicy",
        ("PodStatus", "allocatedResources") => "v1.ResourceList",
        ("PodStatus", "phase") => "v1.PodPhase",
        ("PodStatus", "qosClass") => "v1.PodQOSClass",
        ("PodStatus", "resize") => "v1.PodResizeStatus",
        ("PortStatus", "protocol") => "v1.Protocol",
        ("ReplicaSetCondition", "type") => "v1.ReplicaSetConditionType",
        ("ResourceHealth", "health") => "v1.ResourceHealthStatus",
        ("ResourceHealth", "resourceID") => "v1.ResourceID",
        ("ResourceRequirements", "limits") => "v1.ResourceList",
        ("ResourceRequirements", "requests") => "v1.ResourceList",
        ("ResourceStatus", "name") => "v1.ResourceName",
        ("SeccompProfile", "type") => "v1.SeccompProfileType",
        ("Secret", "type") => "v1.SecretType",
        ("SecurityContext", "procMount") => "v1.ProcMountType",
        ("StatefulSetCondition", "type") => "v1.StatefulSetConditionType",
        ("StatefulSetPersistentVolumeClaimRetentionPolicy", "whenDeleted") => {
            "v1.PersistentVolumeClaimRetentionPolicyType"
        }
        ("StatefulSetPersistentVolumeClaimRetentionPolicy", "whenScaled") => {
            "v1.PersistentVolumeClaimRetentionPolicyType"
        }
        ("StatefulSetSpec", "podManagementPolicy") => "v1.PodManagementPolicyType",
        ("StatefulSetUpdateStrategy", "type") => "v1.StatefulSetUpdateStrategyType",
        ("Toleration", "effect") => "v1.TaintEffect",
        ("Toleration", "operator") => "v1.TolerationOperator",
        ("TopologySpreadConstraint", "nodeAffinityPolicy") => "v1.NodeInclusionPolicy",
        ("TopologySpreadConstraint", "nodeTaintsPolicy") => "v1.NodeInclusionPolicy",
        ("TopologySpreadConstraint", "whenUnsatisfiable") => "v1.UnsatisfiableConstraintAction",
        ("VolumeMount", "mountPropagation") => "v1.MountPropagationMode",
        ("VolumeMount", "recursiveReadOnly") => "v1.RecursiveReadOnlyMode",
        ("VolumeMountStatus", "recursiveReadOnly") => "v1.RecursiveReadOnlyMode",
        ("VolumeResourceRequirements", "limits") => "v1.ResourceList",
        ("VolumeResourceRequirements", "requests") => "v1.ResourceList",
        _ => return None,
    })
}
