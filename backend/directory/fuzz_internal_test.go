package directory

import (
	"errors"
	"strings"
	"testing"

	"github.com/merchantbot/merchantbot/dialogs/parse"
)

// FuzzRead: any file is read without a panic; what is accepted is valid,
// and what is refused says why by line.
func FuzzRead(f *testing.F) {
	f.Add(Header + "\n822100050110001,1900000109,张三,,个体户,13800000001\n")
	f.Add("\ufeff" + Header + "\r\n８２２１０００５０１１０００１,1900000109,\"a,b\",x,企业,+86 138 0000 0001\r\n")
	f.Add(Header + "\n822100050110001,19000\"00109,张三,,个体户,13800000001\n")
	f.Add("merchant_no,phone\n1,2\n")
	f.Fuzz(func(t *testing.T, file string) {
		entries, err := read(strings.NewReader(file))
		if err != nil {
			var ie *ImportError
			if !errors.As(err, &ie) || len(ie.Problems) == 0 {
				t.Fatalf("error %v is not an ImportError with problems", err)
			}
			return
		}
		if len(entries) == 0 {
			t.Fatal("accepted a file without merchants")
		}
		for _, e := range entries {
			if no, err := parse.MerchantNo(e.MerchantNo); err != nil || no != e.MerchantNo {
				t.Fatalf("accepted merchant no %q", e.MerchantNo)
			}
			if p, err := parse.MobilePhone(e.Phone); err != nil || p != e.Phone {
				t.Fatalf("accepted phone %q", e.Phone)
			}
			if e.Name == "" || e.SubMchID == "" || e.Kind == "" {
				t.Fatalf("accepted an entry without name, sub_mchid or kind: %+v", e)
			}
		}
	})
}
