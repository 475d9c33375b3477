import type { Plugin } from 'esbuild';

export declare const INK_TEXT_CACHE_MAX: number;
export declare const INK_CACHE_FILES: RegExp;
export declare function boundInkCache(file: string, source: string): string;
export declare const inkBoundedCaches: Plugin;
