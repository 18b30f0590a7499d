/**
 * Direct access to the HCI socket bleno already holds (`bindings._hci._socket`), for the
 * commands bleno does not send: LE Set Random Address and advertising parameters with a
 * random own address. Commands on one socket reach the controller in order; each answer
 * (Command Complete/Status) is matched to the oldest waiting command with its opcode.
 */
import { RadioError } from "../../core/errors.js";
import { commandResult } from "./hci-commands.js";
import type { Internals } from "./hci-settings.js";
import type { Timers } from "./timers.js";

/** How long the controller gets to answer one command. */
const COMMAND_TIMEOUT_MS = 2000;

export interface HciControl {
  /** Sends a command without waiting for its answer. */
  write(packet: Uint8Array): void;
  /** Sends a command and resolves with its status (0 = success). */
  command(packet: Uint8Array): Promise<number>;
  close(): void;
}

/** Control over the socket of bleno's bindings, or `undefined` when it is not reachable. */
export function hciControlOf(bindings: Internals, timers: Timers): HciControl | undefined {
  const socket = bindings?._hci?._socket;
  if (!socket || typeof socket.write !== "function" || typeof socket.on !== "function")
    return undefined;
  const waiting = new Map<number, ((status: number) => void)[]>();
  const onData = (data: Uint8Array) => {
    const result = commandResult(data);
    if (!result) return;
    waiting.get(result.opcode)?.shift()?.(result.status);
  };
  socket.on("data", onData);
  const write = (packet: Uint8Array) => socket.write(Buffer.from(packet));
  return {
    write,
    command(packet) {
      const opcode = packet[1] | (packet[2] << 8);
      return new Promise<number>((resolve, reject) => {
        const queue = waiting.get(opcode) ?? [];
        waiting.set(opcode, queue);
        const timeout = timers.setTimeout(() => {
          const i = queue.indexOf(answer);
          if (i >= 0) queue.splice(i, 1);
          reject(
            new RadioError(
              `the Bluetooth adapter did not answer HCI command 0x${opcode.toString(16).padStart(4, "0")} within ${COMMAND_TIMEOUT_MS / 1000} s`,
              "E_RADIO_TIMEOUT",
            ),
          );
        }, COMMAND_TIMEOUT_MS);
        const answer = (status: number) => {
          timers.clearTimeout(timeout);
          resolve(status);
        };
        queue.push(answer);
        try {
          write(packet);
        } catch (error) {
          timers.clearTimeout(timeout);
          queue.splice(queue.indexOf(answer), 1);
          reject(
            new RadioError(
              `cannot write to the HCI socket: ${(error as Error).message}`,
              "E_RADIO_IO",
            ),
          );
        }
      });
    },
    close() {
      socket.removeListener?.("data", onData);
      waiting.clear();
    },
  };
}
