#!/usr/bin/env python3
# Compare two VCD files signal by signal, for an RTL refactor that moves logic into sub-blocks:
# every signal whose full path is in both files must have the same value changes (a signal that
# moved into a sub-block is in one file only). Exits 1 on a difference.
# Usage: scripts/vcdcmp.py before.vcd after.vcd  (FST: fst2vcd x.fst > x.vcd first)
import sys
def sigs(path):
    ids={}; scope=[]; out={}; t=0
    with open(path) as f:
        defs=True
        for line in f:
            if defs:
                w=line.split()
                if not w: continue
                if w[0]=='$scope': scope.append(w[2])
                elif w[0]=='$upscope': scope.pop()
                elif w[0]=='$var': ids.setdefault(w[3],[]).append('.'.join(scope+[w[4]]))
                elif w[0]=='$enddefinitions': defs=False
                continue
            if line[0]=='#': t=int(line[1:]); continue
            if line[0] in 'bBrR': v,i=line[1:].split()
            else: v,i=line[0],line[1:].strip()
            for n in ids.get(i,[]): out.setdefault(n,[]).append((t,v))
    names=set(n for l in ids.values() for n in l)
    return out,names
(a,na),(b,nb)=sigs(sys.argv[1]),sigs(sys.argv[2])
common=na&nb
top=[n for n in common if n.count('.')==1]
diff=[n for n in common if a.get(n)!=b.get(n)]
print(f'{len(na)} signals before, {len(nb)} after, {len(common)} in both ({len(top)} top-level ports); only before {len(na-nb)}, only after {len(nb-na)}')
print('differing:', sorted(diff)[:30] if diff else 'none')
sys.exit(1 if diff else 0)
