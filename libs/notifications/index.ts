export * from "./notification-listener.js";
export * from "./channels.js";
export * from "./queue-waker.js";
