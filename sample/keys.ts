/**
 * The two shared secrets every node of the mesh must hold: a node with other keys cannot
 * connect. Set MESH_PUBLIC_KEY and MESH_PRIVATE_KEY outside this demo.
 */

// DEMO DEFAULTS: published in this repository, so anyone can join a mesh that uses them.
const DEMO_PUBLIC_KEY = 'socket-mesh-demo-public-key';
const DEMO_PRIVATE_KEY = 'socket-mesh-demo-private-key-NOT-SECRET-0123456789';

export const publicKey = process.env.MESH_PUBLIC_KEY || DEMO_PUBLIC_KEY;
export const privateKey = process.env.MESH_PRIVATE_KEY || DEMO_PRIVATE_KEY;
export const usingDemoKeys = !process.env.MESH_PUBLIC_KEY || !process.env.MESH_PRIVATE_KEY;
