// The mesh keys and the manager's socket port, from the environment pack-check.sh sets.
export const publicKey = process.env.MESH_PUBLIC_KEY ?? 'pack-check-public';
export const privateKey = process.env.MESH_PRIVATE_KEY ?? 'pack-check-secret-0123456789abcdefghijk';
export const managerPort = Number(process.env.MESH_PORT);
