/**
 * `HookedModule`: the base of every component and model. Hook points and sub-modules are plain fields;
 * `setupHooks()` walks the field tree once (as TransformerLens's `HookedRootModule.setup`) and names
 * every `HookPoint` from its path: field names in camelCase become snake_case segments and arrays
 * become indices, so `blocks[3].attn.hookPattern` is `blocks.3.attn.hook_pattern`. Names are never
 * written as string literals in a forward pass.
 */
import * as tf from '@tensorflow/tfjs-core';
import { HookPoint, type OverridableModule } from './hook-point.js';

/** `hookResidPre` → `hook_resid_pre`, `lnFinal` → `ln_final`, `hookConv1` → `hook_conv1`. */
export function camelToSnake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** Base class of hooked components: owns tensors (disposed by `dispose`) and hook points. */
export abstract class HookedModule implements OverridableModule {
  /** Path of this module in its model (`blocks.3.mlp`; '' for the root), set by the tree walk. */
  moduleName = '';

  /**
   * Walks the field tree, names every hook point, and returns them in declaration order
   * (declaration order = forward order, so `hookNames()` lists hooks as the forward pass meets them).
   */
  protected collectHookPoints(prefix = '', out = new Map<string, HookPoint>(), modules?: Map<string, HookedModule>): Map<string, HookPoint> {
    for (const [key, value] of Object.entries(this)) {
      const segment = camelToSnake(key);
      if (value instanceof HookPoint) {
        value.name = `${prefix}${value.path ?? segment}`;
        out.set(value.name, value);
      } else if (value instanceof HookedModule) {
        value.visit(`${prefix}${segment}`, out, modules);
      } else if (Array.isArray(value) && value.length && value[0] instanceof HookedModule) {
        (value as HookedModule[]).forEach((child, i) => child.visit(`${prefix}${segment}.${i}`, out, modules));
      }
    }
    return out;
  }

  private visit(path: string, out: Map<string, HookPoint>, modules: Map<string, HookedModule> | undefined): void {
    this.moduleName = path;
    modules?.set(path, this);
    this.collectHookPoints(`${path}.`, out, modules);
  }

  /**
   * TransformerLens 3.x canonical names of this module's hook points, relative to the module
   * (`'ln2.hook_in'` → the hook point holding that value); the root resolves them as aliases.
   */
  canonicalHooks(): Record<string, HookPoint | undefined> {
    return {};
  }

  /** Disposes every tensor held in this module's fields and its sub-modules. */
  dispose(): void {
    for (const value of Object.values(this)) {
      if (value instanceof tf.Tensor) value.dispose();
      else if (value instanceof HookedModule) value.dispose();
      else if (Array.isArray(value)) for (const v of value) if (v instanceof HookedModule || v instanceof tf.Tensor) v.dispose();
    }
  }
}
