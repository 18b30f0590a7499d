import { describe, expect, it } from "vitest";
import { Agents } from "../../../sim/world/agents.js";
import { rectContains } from "../../../sim/world/geometry.js";
import { AdvancingQueue } from "../../../sim/world/mobility/advancing-queue.js";
import { GroupWalk } from "../../../sim/world/mobility/group-walk.js";
import { RandomWaypoint } from "../../../sim/world/mobility/random-waypoint.js";
import { SeatedJitter } from "../../../sim/world/mobility/seated-jitter.js";
import { VehicleStops } from "../../../sim/world/mobility/vehicle-stops.js";
import { SeededRandom } from "../../../src/core/random.js";

function crowd(n: number): { agents: Agents; members: Int32Array } {
  const agents = new Agents(n);
  for (let i = 0; i < n; i++) agents.add({ xM: 0, yM: 0 });
  return { agents, members: Int32Array.from({ length: n }, (_, i) => i) };
}

const area = { xM: 0, yM: 0, widthM: 50, heightM: 30 };

describe("mobility models", () => {
  it("random waypoint keeps everyone in the area, at walking speed", () => {
    const { agents, members } = crowd(200);
    const random = new SeededRandom(3);
    const model = new RandomWaypoint(members, { area, speedMps: [0.9, 1.5], pauseS: [0, 10] });
    model.place(agents, random);
    let moving = 0;
    for (let s = 0; s < 300; s++) {
      model.step(agents, 1000, random);
      for (let i = 0; i < 200; i++) {
        expect(rectContains(area, agents.xM[i], agents.yM[i], 1e-9)).toBe(true);
        const speed = Math.hypot(agents.vxMps[i], agents.vyMps[i]);
        expect(speed).toBeLessThanOrEqual(1.5 + 1e-6);
        if (speed > 0.1) moving++;
      }
    }
    expect(moving).toBeGreaterThan(0.3 * 200 * 300);
  });

  it("seated jitter stays within three standard deviations of the seat", () => {
    const { agents, members } = crowd(30);
    const seats = Float32Array.from({ length: 60 }, (_, k) => (k % 2 === 0 ? (k / 2) * 1.2 : 3));
    const model = new SeatedJitter(members, seats, { jitterM: 0.05, jitterTauS: 30 });
    const random = new SeededRandom(4);
    model.place(agents, random);
    let sumSq = 0;
    for (let s = 0; s < 1200; s++) {
      model.step(agents, 1000, random);
      for (let i = 0; i < 30; i++) {
        const dx = agents.xM[i] - seats[2 * i];
        const dy = agents.yM[i] - seats[2 * i + 1];
        expect(Math.abs(dx)).toBeLessThanOrEqual(0.15 + 1e-9);
        expect(Math.abs(dy)).toBeLessThanOrEqual(0.15 + 1e-9);
        sumSq += dx * dx;
      }
    }
    expect(Math.sqrt(sumSq / (30 * 1200))).toBeCloseTo(0.05, 1);
  });

  it("a queue keeps its order, serves only at the head, and advances", () => {
    const { agents, members } = crowd(40);
    const random = new SeededRandom(5);
    const queue = new AdvancingQueue(members, {
      headXM: 30,
      headYM: 5,
      towardTailX: -1,
      towardTailY: 0,
      spacingM: 0.9,
      serviceS: [5, 15],
      arrivalsPerMinute: 5,
      initialLength: 8,
    });
    queue.place(agents, random);
    let previousHead = queue.at(0);
    let headChanges = 0;
    for (let s = 0; s < 3600; s++) {
      queue.step(agents, 1000, random);
      let ahead = Number.NEGATIVE_INFINITY;
      for (let k = 0; k < queue.lineLength; k++) {
        const i = queue.at(k);
        expect(agents.present[i]).toBe(1);
        const along = queue.offsetAlongLineM(agents, i);
        expect(along).toBeGreaterThanOrEqual(ahead + 0.9 - 1e-6);
        expect(Math.abs(agents.yM[i] - 5)).toBeLessThan(1e-9);
        ahead = along;
      }
      // Only the head ever leaves the line: the old head is gone or still first.
      if (queue.at(0) !== previousHead) {
        headChanges++;
        for (let k = 0; k < queue.lineLength; k++) expect(queue.at(k)).not.toBe(previousHead);
        previousHead = queue.at(0);
      }
    }
    // 5 arrivals a minute, 10 s mean service: about 300 served in an hour.
    expect(queue.served).toBeGreaterThan(240);
    expect(queue.served).toBeLessThan(360);
    expect(headChanges).toBeGreaterThan(200);
  });

  it("passengers board and alight only while the doors are open, and in order of stops", () => {
    const { agents, members } = crowd(150);
    const random = new SeededRandom(6);
    const stops = Array.from({ length: 8 }, (_, k) => ({ atS: k * 120, dwellS: 20 }));
    const places = new Float32Array(2 * 80);
    for (let k = 0; k < 80; k++) {
      places[2 * k] = 1 + (k % 20) * 1.4;
      places[2 * k + 1] = 0.5 + Math.floor(k / 20) * 0.5;
    }
    const vehicle = new VehicleStops(members, {
      area: { xM: 0, yM: 0, widthM: 30, heightM: 2.65 },
      doors: [
        { xM: 5, yM: 0 },
        { xM: 15, yM: 0 },
        { xM: 25, yM: 0 },
      ],
      places,
      stops,
    });
    vehicle.place(agents, random);
    const wasPresent = new Uint8Array(150);
    const boardedAt = new Int16Array(150).fill(-1);
    const alightedAt = new Int16Array(150).fill(-1);
    let maxAboard = 0;
    for (let s = 1; s <= 8 * 120; s++) {
      vehicle.step(agents, 1000, random);
      const open = vehicle.stopOpenAt(s * 1000);
      for (let k = 0; k < 150; k++) {
        const p = agents.present[k];
        if (p !== wasPresent[k]) {
          expect(open).toBeGreaterThanOrEqual(0);
          if (p === 1) boardedAt[k] = open;
          else alightedAt[k] = open;
        }
        if (p === 1) {
          expect(
            rectContains(
              { xM: 0, yM: 0, widthM: 30, heightM: 2.65 },
              agents.xM[k],
              agents.yM[k],
              1e-6,
            ),
          ).toBe(true);
        }
        wasPresent[k] = p;
      }
      maxAboard = Math.max(maxAboard, vehicle.aboard(agents));
    }
    for (let k = 0; k < 150; k++) {
      expect(boardedAt[k]).toBe(vehicle.boardStop[k]);
      expect(alightedAt[k]).toBe(vehicle.alightStop[k]);
      expect(alightedAt[k]).toBeGreaterThan(boardedAt[k]);
    }
    expect(maxAboard).toBeGreaterThan(40);
  });

  it("groups stay together around their leader", () => {
    const { agents, members } = crowd(120);
    const random = new SeededRandom(7);
    const groups = new GroupWalk(members, { area, groupSize: [2, 4], spreadM: 1 });
    groups.place(agents, random);
    expect(groups.groupCount).toBeGreaterThanOrEqual(30);
    expect(groups.groupCount).toBeLessThanOrEqual(60);
    for (let s = 0; s < 300; s++) {
      groups.step(agents, 1000, random);
      for (let m = 0; m < 120; m++) {
        const leader = groups.leaderOf[m];
        expect(agents.groupId[m]).toBe(agents.groupId[leader]);
        expect(agents.distanceM(m, leader)).toBeLessThanOrEqual(1 + 1e-6);
        expect(rectContains(area, agents.xM[m], agents.yM[m], 1e-9)).toBe(true);
      }
    }
  });
});
