#!/usr/bin/env bash
# kvchain's own Azure identity for `kvchain serve` in AKS, through workload identity.
# Reader roles only: kvchain reads identities, federated credentials, role assignments and
# Key Vault object metadata; it never needs a secret value.
#   RG=… CLUSTER=… SCOPE=/subscriptions/…/resourceGroups/… ./azure-identity.sh
set -euo pipefail
: "${RG:?resource group of the identity}" "${CLUSTER:?AKS cluster name}" "${SCOPE:?scope that holds your identities and vaults}"
LOCATION=${LOCATION:-$(az group show -n "$RG" --query location -o tsv)}

az identity create -g "$RG" -n kvchain -l "$LOCATION" -o none
CLIENT_ID=$(az identity show -g "$RG" -n kvchain --query clientId -o tsv)
PRINCIPAL_ID=$(az identity show -g "$RG" -n kvchain --query principalId -o tsv)
ISSUER=$(az aks show -g "$RG" -n "$CLUSTER" --query oidcIssuerProfile.issuerUrl -o tsv)

# Must match the ServiceAccount in rbac.yaml exactly (namespace and name).
az identity federated-credential create -g "$RG" --identity-name kvchain -n kvchain-serve \
  --issuer "$ISSUER" --subject system:serviceaccount:kvchain:kvchain \
  --audiences api://AzureADTokenExchange -o none

for role in Reader "Key Vault Reader"; do
  az role assignment create --assignee-object-id "$PRINCIPAL_ID" \
    --assignee-principal-type ServicePrincipal --role "$role" --scope "$SCOPE" -o none
done

kubectl -n kvchain annotate serviceaccount kvchain --overwrite \
  "azure.workload.identity/client-id=$CLIENT_ID"
echo "kvchain identity $CLIENT_ID: Reader and Key Vault Reader on $SCOPE"
